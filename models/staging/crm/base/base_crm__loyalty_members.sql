{{ config(materialized='table') }}
{%- set raw_columns = ['member_id', 'customer_id', 'joined_at', 'tier', 'points_balance', 'left_at'] -%}
{{ assert_raw_contract('crm', 'loyalty_members') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('crm', 'loyalty_members') }}
),

known_customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
),

parsed as (
    select
        *,
        raw_member_id as member_id,
        {{ parse_timestamp_utc('raw_joined_at') }} as joined_at,
        {{ parse_timestamp_utc('raw_left_at') }} as left_at,
        {{ parse_integer('raw_points_balance') }} as points_balance,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['member_id']) }} as raw_key
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.member_id is null then 'null_key:member_id'
            when parsed.raw_customer_id is null then 'missing_value:customer_id'
            when parsed.raw_joined_at is null then 'missing_value:joined_at'
            when parsed.joined_at is null then 'unparseable_value:joined_at'
            when parsed.raw_left_at is not null and parsed.left_at is null then 'unparseable_value:left_at'
            when parsed.raw_points_balance is not null and parsed.points_balance is null
                then 'unparseable_value:points_balance'
            when parsed.left_at < parsed.joined_at then 'invalid_value:left_at'
            when parsed.joined_at >= {{ as_of_upper_bound() }} then 'after_as_of:joined_at'
            when known_customers.customer_id is null then 'orphan_reference:customer_id'
        end as row_problem
    from parsed
    left join known_customers on parsed.raw_customer_id = known_customers.customer_id
),

{{ decide_quarantine(['member_id']) }}
