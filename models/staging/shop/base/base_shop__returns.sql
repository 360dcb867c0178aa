{{ config(materialized='table') }}
{%- set raw_columns = ['return_id', 'order_id', 'product_id', 'quantity', 'refund_amount', 'returned_at', 'reason'] -%}
{{ assert_raw_contract('shop', 'returns') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('shop', 'returns') }}
),

staged_orders as (
    select order_id from {{ ref('stg_shop__orders') }}
),

known_products as (
    select product_id from {{ ref('stg_shop__products') }}
),

parsed as (
    select
        *,
        raw_return_id as return_id,
        {{ parse_integer('raw_quantity') }} as quantity,
        {{ parse_number('raw_refund_amount') }} as refund_amount,
        {{ parse_timestamp_utc('raw_returned_at') }} as returned_at,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['return_id']) }} as raw_key
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.return_id is null then 'null_key:return_id'
            when parsed.raw_order_id is null then 'missing_value:order_id'
            when parsed.raw_returned_at is null then 'missing_value:returned_at'
            when parsed.returned_at is null then 'unparseable_value:returned_at'
            when parsed.returned_at >= {{ as_of_upper_bound() }} then 'after_as_of:returned_at'
            when parsed.raw_quantity is not null and parsed.quantity is null then 'unparseable_value:quantity'
            when parsed.raw_refund_amount is not null and parsed.refund_amount is null
                then 'unparseable_value:refund_amount'
            when parsed.quantity < 0 then 'negative_value:quantity'
            when parsed.refund_amount < 0 then 'negative_value:refund_amount'
            when staged_orders.order_id is null then 'orphan_reference:order_id'
            when parsed.raw_product_id is not null and known_products.product_id is null
                then 'orphan_reference:product_id'
        end as row_problem
    from parsed
    left join staged_orders on parsed.raw_order_id = staged_orders.order_id
    left join known_products on parsed.raw_product_id = known_products.product_id
),

{{ decide_quarantine(['return_id']) }}
