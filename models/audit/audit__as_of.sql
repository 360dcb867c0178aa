{#- The date this build is computed as of (macros/as_of.sql), for anyone reading
    its outputs: set by var as_of, or inferred from the latest raw order, whose
    date is shown beside it. -#}
with

orders as (
    select ordered_at from {{ ref('base_shop__orders_parsed') }}
),

latest as (
    select max(cast(ordered_at as date)) as latest_order_date
    from orders
    where ordered_at <= {{ dbt.current_timestamp() }}
),

final as (
    select
        {{ as_of_date_literal() }} as as_of_date,
        '{{ "configured" if as_of_is_configured() else "latest data" }}' as as_of_source,
        latest_order_date
    from latest
)

select * from final
