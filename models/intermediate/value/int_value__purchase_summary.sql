{#-
  The recency/frequency/T/monetary summary the CLV models are fitted on, one
  row per customer_key with at least one purchase (a non-cancelled order) up
  to the as-of date. Purchases are counted per purchase day, as is standard for
  these models: two orders on one day are one purchase occasion worth their
  sum. Time unit: day.
  - frequency: repeat purchase days (purchase days after the first one);
  - recency_days: days from the first to the last purchase day;
  - t_days: days from the first purchase day to the as-of date;
  - monetary_value: mean revenue of the repeat purchase days (null without
    a repeat), revenue being net of line discounts and before returns, the
    definition of customer_360.net_revenue. Days with an order that lost a
    line in staging (quarantined for a reason other than duplicate, superseded, after
    as-of or its order's own refusal) count as purchases but not in the mean:
    their revenue is understated. monetary_frequency counts the days used.
-#}
with

orders as (
    select * from {{ ref('int_customer__orders') }}
    -- Anonymous purchases are revenue, not a customer's purchase process.
    where not is_cancelled and is_known_customer
),

quarantine as (
    select * from {{ ref('audit__quarantine') }}
),

incomplete_orders as (
    select distinct {{ dbt.split_part('raw_key', "'|'", 1) }} as order_id
    from quarantine
    where
        source_name = 'shop'
        and table_name = 'order_lines'
        and quarantine_reason not in ('duplicate', 'superseded', 'after_as_of', 'parent_quarantined')
),

purchase_days as (
    select
        orders.customer_key,
        orders.order_date as purchase_date,
        count(*) as orders_count,
        sum(orders.net_amount) as revenue,
        count(incomplete_orders.order_id) = 0 as is_complete
    from orders
    left join incomplete_orders on orders.order_id = incomplete_orders.order_id
    group by orders.customer_key, orders.order_date
),

numbered_days as (
    select
        customer_key,
        purchase_date,
        orders_count,
        revenue,
        is_complete,
        row_number() over (partition by customer_key order by purchase_date) as purchase_day_number
    from purchase_days
),

per_customer as (
    select
        customer_key,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as purchase_days,
        sum(orders_count) as orders_count,
        sum(revenue) as revenue,
        sum(case when purchase_day_number > 1 and is_complete then revenue end) as complete_repeat_revenue,
        count(case when purchase_day_number > 1 and is_complete then 1 end) as complete_repeat_days
    from numbered_days
    group by customer_key
),

final as (
    select
        customer_key,
        {{ as_of_date_literal() }} as as_of_date,
        first_purchase_date,
        last_purchase_date,
        purchase_days,
        orders_count,
        revenue,
        purchase_days - 1 as frequency,
        {{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }}
            as recency_days,
        {{ dbt.datediff('first_purchase_date', as_of_date_literal(), 'day') }}
            as t_days,
        complete_repeat_days as monetary_frequency,
        {{ safe_ratio('complete_repeat_revenue', 'complete_repeat_days') }} as monetary_value
    from per_customer
)

select * from final
