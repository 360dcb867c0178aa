{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 2.75 MiB there. -#}
{{ config(materialized='view') }}
{#-
  What each customer bought per product category, over non-cancelled orders up
  to the as-of date: revenue (net of line discounts, before returns), cost of
  goods, refunds of returned goods of that category and the gross margin
  left (revenue - cost - refunds, as in customer_360), units, all time and
  over the last cross_sell_window_days (by order date). The base of the
  cross-sell and up-sell models.
-#}
with

order_lines as (
    select * from {{ ref('int_customer__order_lines') }}
    where not is_cancelled
),

orders as (
    select * from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

line_facts as (
    select
        customer_key,
        coalesce(category, 'unknown') as category,
        ordered_at,
        quantity,
        net_amount,
        cost_amount,
        cast(0 as {{ dbt.type_numeric() }}) as refund_amount
    from order_lines
),

-- A refund lowers the margin of the category and order it came from.
refund_facts as (
    select
        orders.customer_key,
        coalesce(products.category, 'unknown') as category,
        orders.ordered_at,
        0 as quantity,
        cast(0 as {{ dbt.type_numeric() }}) as net_amount,
        cast(0 as {{ dbt.type_numeric() }}) as cost_amount,
        returns.refund_amount
    from returns
    inner join orders on returns.order_id = orders.order_id
    left join products on returns.product_id = products.product_id
),

facts as (
    select
        customer_key,
        category,
        ordered_at,
        quantity,
        net_amount,
        cost_amount,
        refund_amount
    from line_facts
    union all
    select
        customer_key,
        category,
        ordered_at,
        quantity,
        net_amount,
        cost_amount,
        refund_amount
    from refund_facts
),

windowed as (
    select
        customer_key,
        category,
        quantity,
        net_amount,
        cost_amount,
        refund_amount,
        ordered_at >= {{ as_of_window_start(var('cross_sell_window_days', 365)) }} as is_in_window
    from facts
),

final as (
    select
        customer_key,
        category,
        cast(sum(quantity) as {{ dbt.type_bigint() }}) as units,
        sum(net_amount) as revenue,
        -- One line of unknown cost makes the category's cost and margin unknown.
        case when count(cost_amount) = count(*) then sum(cost_amount) end as cost_amount,
        sum(refund_amount) as refund_amount,
        case when count(cost_amount) = count(*) then sum(net_amount - cost_amount - refund_amount) end as gross_margin,
        cast(sum(case when is_in_window then quantity else 0 end) as {{ dbt.type_bigint() }}) as window_units,
        sum(case when is_in_window then net_amount else 0 end) as window_revenue,
        case
            when count(cost_amount) = count(*)
                then sum(case when is_in_window then net_amount - cost_amount - refund_amount else 0 end)
        end as window_gross_margin
    from windowed
    group by customer_key, category
)

select * from final
