{{ config(materialized='table') }}
{%- set raw_columns = [
    'order_id', 'customer_id', 'email', 'channel', 'store_id', 'ordered_at', 'currency', 'status'
] -%}
{{ assert_raw_contract('shop', 'orders') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('shop', 'orders') }}
),

known_customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
),

parsed as (
    select
        *,
        raw_order_id as order_id,
        {{ parse_timestamp_utc('raw_ordered_at') }} as ordered_at,
        lower(raw_channel) as channel,
        lower(raw_status) as status,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['order_id']) }} as raw_key
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.order_id is null then 'null_key:order_id'
            when parsed.raw_ordered_at is null then 'missing_value:ordered_at'
            when parsed.ordered_at is null then 'unparseable_value:ordered_at'
            when parsed.ordered_at >= {{ as_of_upper_bound() }} then 'after_as_of:ordered_at'
            when parsed.status not in ('placed', 'completed', 'cancelled', 'returned') or parsed.status is null
                then 'invalid_value:status'
            when parsed.raw_customer_id is not null and known_customers.customer_id is null
                then 'orphan_reference:customer_id'
        end as row_problem
    from parsed
    left join known_customers on parsed.raw_customer_id = known_customers.customer_id
),

{{ decide_quarantine(['order_id']) }}
