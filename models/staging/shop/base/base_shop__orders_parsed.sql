{#- Parses raw shop.orders row by row, reading nothing but the source: every raw
    row, with the problem the row shows on its own (parse_problem). Whether its
    customer exists is checked after parsing, in base_shop__orders. -#}
{%- set raw_columns = [
    'order_id', 'customer_id', 'email', 'channel', 'store_id', 'ordered_at', 'currency', 'status'
] -%}
{{ assert_raw_contract('shop', 'orders') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('shop', 'orders') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('shop.orders') }}
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
        *,
        case
            when order_id is null then 'null_key:order_id'
            when raw_ordered_at is null then 'missing_value:ordered_at'
            when ordered_at is null then 'unparseable_value:ordered_at'
            when ordered_at >= {{ as_of_upper_bound() }} then 'after_as_of:ordered_at'
            when status not in ('placed', 'completed', 'cancelled', 'returned') or status is null
                then 'invalid_value:status'
        end as parse_problem
    from parsed
)

select * from checked
