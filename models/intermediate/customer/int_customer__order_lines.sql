with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

orders as (
    select * from {{ ref('int_customer__orders') }}
),

final as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_key,
        orders.ordered_at,
        orders.channel,
        orders.is_cancelled,
        order_lines.product_id,
        products.category,
        order_lines.quantity,
        order_lines.gross_amount,
        order_lines.discount_amount,
        order_lines.net_amount,
        order_lines.quantity * products.unit_cost as cost_amount
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
    left join products on order_lines.product_id = products.product_id
)

select * from final
