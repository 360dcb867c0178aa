{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 5.25 MiB there. -#}
{{ config(materialized='view') }}
{#-
  Every staged order line in the reporting currency, with its cost and the
  basis of that cost: 'unit_cost' (the product's), 'margin_rate' (no unit
  cost; seeds/value_margin_rates.csv gives its category's margin rate, or
  '*' any category's) or null: cost unknown, so margin is unknown too, never
  taken as revenue. Product list prices and unit costs are in the reporting
  currency; order amounts are converted with their order's rate.
-#}
with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

order_amounts as (
    select * from {{ ref('int_finance__order_amounts') }}
),

margin_rates as (
    select
        lower(category) as category,
        margin_rate
    from {{ ref('value_margin_rates') }}
),

converted as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.product_id,
        coalesce(products.category, 'unknown') as category,
        products.unit_cost,
        order_lines.quantity,
        order_amounts.currency,
        order_amounts.exchange_rate,
        {{ to_reporting_currency('order_lines.gross_amount', 'order_amounts.exchange_rate') }} as gross_amount,
        {{ to_reporting_currency('order_lines.discount_amount', 'order_amounts.exchange_rate') }} as discount_amount,
        {{ to_reporting_currency('order_lines.net_amount', 'order_amounts.exchange_rate') }} as net_amount
    from order_lines
    inner join order_amounts on order_lines.order_id = order_amounts.order_id
    left join products on order_lines.product_id = products.product_id
),

final as (
    select
        converted.order_line_id,
        converted.order_id,
        converted.product_id,
        converted.category,
        converted.quantity,
        converted.currency,
        converted.exchange_rate,
        converted.gross_amount,
        converted.discount_amount,
        converted.net_amount,
        case
            when converted.unit_cost is not null then converted.quantity * converted.unit_cost
            else {{ scaled_amount(
                'converted.net_amount',
                '(1 - coalesce(category_rates.margin_rate, any_rates.margin_rate))'
            ) }}
        end as cost_amount,
        case
            when converted.unit_cost is not null then 'unit_cost'
            when coalesce(category_rates.margin_rate, any_rates.margin_rate) is not null then 'margin_rate'
        end as cost_basis
    from converted
    left join margin_rates as category_rates on converted.category = category_rates.category
    left join margin_rates as any_rates on any_rates.category = '*'
)

select * from final
