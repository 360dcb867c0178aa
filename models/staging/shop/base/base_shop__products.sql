{%- set raw_columns = ['product_id', 'name', 'category', 'subcategory', 'brand', 'list_price', 'unit_cost'] -%}
{{ assert_raw_contract('shop', 'products') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('shop', 'products') }}
),

parsed as (
    select
        *,
        raw_product_id as product_id,
        {{ parse_number('raw_list_price') }} as list_price,
        {{ parse_number('raw_unit_cost') }} as unit_cost,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['product_id']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when product_id is null then 'null_key:product_id'
            when raw_list_price is not null and list_price is null then 'unparseable_value:list_price'
            when raw_unit_cost is not null and unit_cost is null then 'unparseable_value:unit_cost'
            when list_price < 0 then 'negative_value:list_price'
            when unit_cost < 0 then 'negative_value:unit_cost'
        end as row_problem
    from parsed
),

{{ decide_quarantine(['product_id']) }}
