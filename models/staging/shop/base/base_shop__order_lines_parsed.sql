{#- Parses raw shop.order_lines row by row, reading nothing but the source: every
    raw row, with the problem the row shows on its own (parse_problem). Whether
    its order and product are staged is checked after parsing, in base_shop__order_lines. -#}
{%- set raw_columns = ['order_id', 'line_number', 'product_id', 'quantity', 'unit_price', 'discount_amount'] -%}
{{ assert_raw_contract('shop', 'order_lines') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('shop', 'order_lines') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('shop.order_lines') }}
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
        *,
        case
            when order_id is null then 'null_key:order_id'
            when raw_line_number is null then 'null_key:line_number'
            when line_number is null then 'unparseable_value:line_number'
            when raw_product_id is null then 'missing_value:product_id'
            when raw_quantity is null then 'missing_value:quantity'
            when quantity is null then 'unparseable_value:quantity'
            when raw_unit_price is null then 'missing_value:unit_price'
            when unit_price is null then 'unparseable_value:unit_price'
            when raw_discount_amount is not null and {{ parse_number('raw_discount_amount') }} is null
                then 'unparseable_value:discount_amount'
            when quantity < 0 then 'negative_value:quantity'
            when quantity = 0 then 'invalid_value:quantity'
            when unit_price < 0 then 'negative_value:unit_price'
            when discount_amount < 0 then 'negative_value:discount_amount'
            when discount_amount > quantity * unit_price then 'invalid_value:discount_amount'
        end as parse_problem
    from parsed
)

select * from checked
