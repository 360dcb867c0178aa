{{ config(materialized='table') }}
{%- set raw_columns = ['case_id', 'customer_id', 'channel', 'reason', 'opened_at', 'resolved_at', 'satisfaction'] -%}
{{ assert_raw_contract('crm', 'service_cases') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('crm', 'service_cases') }}
),

known_customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
),

parsed as (
    select
        *,
        raw_case_id as case_id,
        {{ parse_timestamp_utc('raw_opened_at') }} as opened_at,
        {{ parse_timestamp_utc('raw_resolved_at') }} as resolved_at,
        {{ parse_integer('raw_satisfaction') }} as satisfaction,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['case_id']) }} as raw_key
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.case_id is null then 'null_key:case_id'
            when parsed.raw_customer_id is null then 'missing_value:customer_id'
            when parsed.raw_opened_at is null then 'missing_value:opened_at'
            when parsed.opened_at is null then 'unparseable_value:opened_at'
            when parsed.raw_resolved_at is not null and parsed.resolved_at is null
                then 'unparseable_value:resolved_at'
            when parsed.raw_satisfaction is not null and parsed.satisfaction is null
                then 'unparseable_value:satisfaction'
            when parsed.satisfaction not between 1 and 5 then 'invalid_value:satisfaction'
            when parsed.resolved_at < parsed.opened_at then 'invalid_value:resolved_at'
            when parsed.opened_at >= {{ as_of_upper_bound() }} then 'after_as_of:opened_at'
            when known_customers.customer_id is null then 'orphan_reference:customer_id'
        end as row_problem
    from parsed
    left join known_customers on parsed.raw_customer_id = known_customers.customer_id
),

{{ decide_quarantine(['case_id']) }}
