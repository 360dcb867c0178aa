{{ config(materialized='table') }}
{%- set raw_columns = ['response_id', 'customer_id', 'nps_score', 'touchpoint', 'answered_at'] -%}
{{ assert_raw_contract('crm', 'surveys') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('crm', 'surveys') }}
),

known_customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
),

parsed as (
    select
        *,
        raw_response_id as response_id,
        {{ parse_integer('raw_nps_score') }} as nps_score,
        {{ parse_timestamp_utc('raw_answered_at') }} as answered_at,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['response_id']) }} as raw_key
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.response_id is null then 'null_key:response_id'
            when parsed.raw_customer_id is null then 'missing_value:customer_id'
            when parsed.raw_nps_score is null then 'missing_value:nps_score'
            when parsed.nps_score is null then 'unparseable_value:nps_score'
            when parsed.nps_score not between 0 and 10 then 'invalid_value:nps_score'
            when parsed.raw_answered_at is null then 'missing_value:answered_at'
            when parsed.answered_at is null then 'unparseable_value:answered_at'
            when parsed.answered_at >= {{ as_of_upper_bound() }} then 'after_as_of:answered_at'
            when known_customers.customer_id is null then 'orphan_reference:customer_id'
        end as row_problem
    from parsed
    left join known_customers on parsed.raw_customer_id = known_customers.customer_id
),

{{ decide_quarantine(['response_id']) }}
