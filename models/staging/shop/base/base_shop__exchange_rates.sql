{%- set raw_columns = ['currency', 'rate_date', 'rate'] -%}
{{ assert_raw_contract('shop', 'exchange_rates') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('shop', 'exchange_rates') }}
),

parsed as (
    select
        *,
        upper(raw_currency) as currency,
        {{ parse_date('raw_rate_date', 'shop.exchange_rates') }} as rate_date,
        {{ parse_number('raw_rate') }} as rate,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['currency', 'rate_date']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when currency is null then 'null_key:currency'
            when raw_rate_date is null then 'null_key:rate_date'
            when rate_date is null then 'unparseable_value:rate_date'
            when raw_rate is null then 'missing_value:rate'
            when rate is null then 'unparseable_value:rate'
            when rate <= 0 then 'invalid_value:rate'
        end as row_problem
    from parsed
),

{{ decide_quarantine(['currency', 'rate_date']) }}
