{{ config(materialized='table') }}
{%- set raw_columns = ['order_id', 'line_number', 'product_id', 'quantity', 'unit_price', 'discount_amount'] -%}
{{ assert_raw_contract('shop', 'order_lines') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('shop', 'order_lines') }}
),

-- A line is only as good as its order: it follows the order into the
-- warehouse, or into quarantine (after_as_of when the order is after it).
order_outcomes as (
    select
        order_id,
        max(case when quarantine_reason is null then 1 else 0 end) as is_staged,
        max(case when quarantine_reason = 'after_as_of' then 1 else 0 end) as is_after_as_of
    from {{ ref('base_shop__orders') }}
    where order_id is not null
    group by order_id
),

known_products as (
    select product_id from {{ ref('stg_shop__products') }}
),

parsed as (
    select
        *,
        raw_order_id as order_id,
        {{ parse_integer('raw_line_number') }} as line_number,
        {{ parse_integer('raw_quantity') }} as quantity,
        {{ parse_number('raw_unit_price') }} as unit_price,
        coalesce({{ parse_number('raw_discount_amount') }}, 0) as discount_amount,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['order_id', 'line_number']) }} as raw_key
    from source
),

checked as (
    select
        parsed.*,
        case
            when parsed.order_id is null then 'null_key:order_id'
            when parsed.raw_line_number is null then 'null_key:line_number'
            when parsed.line_number is null then 'unparseable_value:line_number'
            when parsed.raw_product_id is null then 'missing_value:product_id'
            when parsed.raw_quantity is null then 'missing_value:quantity'
            when parsed.quantity is null then 'unparseable_value:quantity'
            when parsed.raw_unit_price is null then 'missing_value:unit_price'
            when parsed.unit_price is null then 'unparseable_value:unit_price'
            when parsed.raw_discount_amount is not null and {{ parse_number('parsed.raw_discount_amount') }} is null
                then 'unparseable_value:discount_amount'
            when parsed.quantity < 0 then 'negative_value:quantity'
            when parsed.quantity = 0 then 'invalid_value:quantity'
            when parsed.unit_price < 0 then 'negative_value:unit_price'
            when parsed.discount_amount < 0 then 'negative_value:discount_amount'
            when parsed.discount_amount > parsed.quantity * parsed.unit_price then 'invalid_value:discount_amount'
            when order_outcomes.order_id is null then 'orphan_reference:order_id'
            when order_outcomes.is_staged = 0 and order_outcomes.is_after_as_of = 1 then 'after_as_of:order_id'
            when order_outcomes.is_staged = 0 then 'parent_quarantined:order_id'
            when known_products.product_id is null then 'orphan_reference:product_id'
        end as row_problem
    from parsed
    left join order_outcomes on parsed.order_id = order_outcomes.order_id
    left join known_products on parsed.raw_product_id = known_products.product_id
),

{{ decide_quarantine(['order_id', 'line_number']) }}
