{#-
  Revenue as of the as-of date, split by whether a customer stands behind it.
  Anonymous purchases (guest orders no identifier links to anyone) are real
  revenue but not a customer's: customer-level marts (customer_value, the
  Pareto curve, CLV, needs, lifecycle, activation) leave them out, and this
  row says how much that is. Non-cancelled orders, net of line discounts,
  in the reporting currency.
-#}
with

orders as (
    select * from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

order_amounts as (
    select * from {{ ref('int_finance__order_amounts') }}
),

totals as (
    select
        count(*) as orders_count,
        count(case when orders.is_known_customer then 1 end) as identified_orders_count,
        count(case when not orders.is_known_customer then 1 end) as unidentified_orders_count,
        coalesce(sum(orders.net_amount), 0) as net_revenue,
        coalesce(sum(case when orders.is_known_customer then orders.net_amount end), 0) as identified_net_revenue,
        coalesce(sum(case when not orders.is_known_customer then orders.net_amount end), 0)
            as unidentified_net_revenue,
        count(distinct order_amounts.currency) as currencies_count,
        max(order_amounts.reporting_currency) as reporting_currency
    from orders
    left join order_amounts on orders.order_id = order_amounts.order_id
),

final as (
    select
        {{ as_of_date_literal() }} as as_of_date,
        reporting_currency,
        currencies_count,
        orders_count,
        identified_orders_count,
        unidentified_orders_count,
        net_revenue,
        identified_net_revenue,
        unidentified_net_revenue,
        {{ safe_ratio('unidentified_net_revenue', 'net_revenue') }} as unidentified_revenue_share
    from totals
)

select * from final
