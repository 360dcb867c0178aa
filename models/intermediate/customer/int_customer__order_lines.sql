{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 7.75 MiB there. -#}
{{ config(materialized='view') }}
with

order_lines as (
    select * from {{ ref('int_finance__order_line_amounts') }}
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
        order_lines.category,
        order_lines.quantity,
        order_lines.gross_amount,
        order_lines.discount_amount,
        order_lines.net_amount,
        order_lines.cost_amount,
        order_lines.cost_basis
    from order_lines
    inner join orders on order_lines.order_id = orders.order_id
)

select * from final
