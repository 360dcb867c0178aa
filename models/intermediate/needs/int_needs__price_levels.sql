{#-
  How expensive what the person buys is, compared with what the same
  categories usually cost: their gross spend (at unit prices, before
  discounts) divided by what the same units would cost at each category's
  average unit price over all customers. 1 = average, 1.3 = 30% above:
  premium buyers score high, budget buyers low, whatever categories they buy.
  Non-cancelled order lines up to the as-of date; lines without a category
  are left out.
-#}
with

order_lines as (
    select * from {{ ref('int_customer__order_lines') }}
    where
        not is_cancelled
        and category is not null
        and quantity > 0
),

category_prices as (
    select
        category,
        {{ safe_ratio('sum(gross_amount)', 'sum(quantity)') }} as average_unit_price
    from order_lines
    group by category
),

customer_prices as (
    select
        order_lines.customer_key,
        -- Exact sums (macros/sql/exact_aggregates.sql): the same in any row order.
        {{ exact_sum('order_lines.gross_amount') }} as gross_amount,
        {{ exact_sum('order_lines.quantity * category_prices.average_unit_price') }} as gross_amount_at_average_prices
    from order_lines
    inner join category_prices on order_lines.category = category_prices.category
    group by order_lines.customer_key
),

final as (
    select
        customer_key,
        gross_amount,
        gross_amount_at_average_prices,
        {{ safe_ratio('gross_amount', 'gross_amount_at_average_prices') }} as price_level_index
    from customer_prices
)

select * from final
