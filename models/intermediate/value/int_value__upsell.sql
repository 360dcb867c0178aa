{#-
  Up-sell signal per buyer: does the customer buy cheaper items than similar
  customers buy in the same subcategories? Prices are unit prices before
  discounts (the price level of the items chosen, not of the deals found).
  The peer price of a subcategory is the peer group's (int_value__peer_groups)
  gross revenue per unit in it, over non-cancelled orders to the as-of date.
  price_index = the customer's gross revenue / what their units would have
  cost at peer prices (1 = like peers, 0.8 = 20% cheaper items). upsell_signal
  when the index is below var upsell_price_index_threshold.
-#}
with

order_lines as (
    select * from {{ ref('int_customer__order_lines') }}
    where not is_cancelled
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

peer_groups as (
    select * from {{ ref('int_value__peer_groups') }}
),

customer_subcategories as (
    select
        order_lines.customer_key,
        coalesce(products.category, 'unknown') as category,
        coalesce(products.subcategory, 'unknown') as subcategory,
        sum(order_lines.quantity) as units,
        sum(order_lines.gross_amount) as gross_revenue
    from order_lines
    left join products on order_lines.product_id = products.product_id
    where order_lines.quantity > 0
    group by order_lines.customer_key, coalesce(products.category, 'unknown'), coalesce(products.subcategory, 'unknown')
),

peer_prices as (
    select
        peer_groups.peer_group,
        customer_subcategories.category,
        customer_subcategories.subcategory,
        {{ safe_ratio('sum(customer_subcategories.gross_revenue)', 'sum(customer_subcategories.units)') }}
            as peer_unit_price
    from customer_subcategories
    inner join peer_groups on customer_subcategories.customer_key = peer_groups.customer_key
    group by peer_groups.peer_group, customer_subcategories.category, customer_subcategories.subcategory
),

at_peer_prices as (
    select
        peer_groups.customer_key,
        sum(customer_subcategories.gross_revenue) as gross_revenue,
        {{ exact_sum('customer_subcategories.units * peer_prices.peer_unit_price') }} as gross_revenue_at_peer_prices
    from peer_groups
    inner join customer_subcategories on peer_groups.customer_key = customer_subcategories.customer_key
    inner join peer_prices
        on
            peer_groups.peer_group = peer_prices.peer_group
            and customer_subcategories.category = peer_prices.category
            and customer_subcategories.subcategory = peer_prices.subcategory
    group by peer_groups.customer_key
),

final as (
    select
        customer_key,
        {{ safe_ratio('gross_revenue', 'gross_revenue_at_peer_prices') }} as price_index,
        coalesce(
            {{ safe_ratio('gross_revenue', 'gross_revenue_at_peer_prices') }}
            < {{ var('upsell_price_index_threshold', 0.7) }},
            false
        ) as upsell_signal
    from at_peer_prices
)

select * from final
