{#- Parses raw shop.returns row by row, reading nothing but the source: every raw
    row, with the problem the row shows on its own (parse_problem). Whether its
    order and product are staged is checked after parsing, in base_shop__returns. -#}
{%- set raw_columns = ['return_id', 'order_id', 'product_id', 'quantity', 'refund_amount', 'returned_at', 'reason'] -%}
{{ assert_raw_contract('shop', 'returns') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('shop', 'returns') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('shop.returns') }}
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
        *,
        case
            when return_id is null then 'null_key:return_id'
            when raw_order_id is null then 'missing_value:order_id'
            when raw_returned_at is null then 'missing_value:returned_at'
            when returned_at is null then 'unparseable_value:returned_at'
            when returned_at >= {{ as_of_upper_bound() }} then 'after_as_of:returned_at'
            when raw_quantity is not null and quantity is null then 'unparseable_value:quantity'
            when raw_refund_amount is not null and refund_amount is null
                then 'unparseable_value:refund_amount'
            when quantity < 0 then 'negative_value:quantity'
            when refund_amount < 0 then 'negative_value:refund_amount'
        end as parse_problem
    from parsed
)

select * from checked
