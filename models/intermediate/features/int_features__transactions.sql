{#-
  What the person bought, over non-cancelled orders up to the as-of date.
  Revenue is net of line discounts and before returns (what was paid);
  gross margin takes off the cost of goods and the refunds of returns.
  Category and channel columns come from macros/features/feature_lists.sql.
-#}
{%- set categories = feature_categories() -%}
{%- set channels = feature_sales_channels() -%}
{%- set listed_categories = "'" ~ categories | join("', '") ~ "'" -%}
with

orders as (
    select * from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

order_lines as (
    select * from {{ ref('int_customer__order_lines') }}
    where not is_cancelled
),

order_totals as (
    select
        customer_key,
        {%- for channel in channels %}
            count(case when channel = '{{ channel }}' then 1 end) as {{ feature_column_suffix(channel) }}_orders_count,
        {%- endfor %}
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as orders_count,
        cast(sum(items_count) as {{ dbt.type_bigint() }}) as items_count,
        sum(gross_amount) as gross_revenue,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_revenue,
        -- One order of unknown cost makes the person's cost (and margin) unknown, not smaller.
        case when count(cost_amount) = count(*) then sum(cost_amount) end as cost_amount,
        cast(sum(returns_count) as {{ dbt.type_bigint() }}) as returns_count,
        cast(sum(returned_items_count) as {{ dbt.type_bigint() }}) as returned_items_count,
        -- An order's returns count for the rate up to the items staged for it: a return whose
        -- order line was quarantined must not push the rate above 1.
        cast(sum(least(returned_items_count, items_count)) as {{ dbt.type_bigint() }}) as rated_returned_items,
        sum(refund_amount) as refund_amount
    from orders
    group by customer_key
),

category_revenue as (
    select
        customer_key,
        {%- for category in categories %}
            sum(case when category = '{{ category }}' then net_amount else 0 end)
                as {{ feature_column_suffix(category) }}_net_revenue,
        {%- endfor %}
        -- Categories outside the list, and lines without one, still add up to 1.
        sum(case when category in ({{ listed_categories }}) then 0 else net_amount end) as other_net_revenue,
        sum(net_amount) as net_revenue
    from order_lines
    group by customer_key
),

final as (
    select
        order_totals.customer_key,
        order_totals.first_order_date,
        order_totals.last_order_date,
        {{ dbt.datediff('order_totals.last_order_date', as_of_date_literal(), 'day') }}
            as days_since_last_order,
        order_totals.orders_count,
        order_totals.items_count,
        order_totals.gross_revenue,
        order_totals.discount_amount,
        order_totals.net_revenue,
        order_totals.cost_amount,
        order_totals.refund_amount,
        order_totals.net_revenue - order_totals.cost_amount - order_totals.refund_amount as gross_margin,
        {{ safe_ratio('order_totals.discount_amount', 'order_totals.gross_revenue') }} as discount_share,
        order_totals.returns_count,
        order_totals.returned_items_count,
        {{ safe_ratio('order_totals.rated_returned_items', 'order_totals.items_count') }} as return_rate,
        {{ safe_ratio('order_totals.net_revenue', 'order_totals.orders_count') }} as average_order_value,
        {%- for channel in channels %}
            {%- set suffix = feature_column_suffix(channel) %}
            {{ safe_ratio('order_totals.' ~ suffix ~ '_orders_count', 'order_totals.orders_count') }}
                as channel_share_{{ suffix }},
        {%- endfor %}
        {%- for category in categories %}
            {%- set suffix = feature_column_suffix(category) %}
            {{ safe_ratio('category_revenue.' ~ suffix ~ '_net_revenue', 'category_revenue.net_revenue') }}
                as category_share_{{ suffix }},
        {%- endfor %}
        {{ safe_ratio('category_revenue.other_net_revenue', 'category_revenue.net_revenue') }} as category_share_other
    from order_totals
    left join category_revenue on order_totals.customer_key = category_revenue.customer_key
)

select * from final
