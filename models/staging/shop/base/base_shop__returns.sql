{#- The staging decision for raw shop.returns: after parsing, a return must point
    at a staged order (and a staged product when it names one); the clean rows
    then compete per return_id. -#}

with

parsed as (
    select * from {{ ref('base_shop__returns_parsed') }}
),

staged_orders as (
    select order_id from {{ ref('base_shop__orders') }}
    where quarantine_reason is null
),

known_products as (
    select product_id from {{ ref('base_shop__products') }}
    where quarantine_reason is null
),

checked as (
    select
        parsed.*,
        coalesce(
            parsed.parse_problem,
            case
                when staged_orders.order_id is null then 'orphan_reference:order_id'
                when parsed.raw_product_id is not null and known_products.product_id is null
                    then 'orphan_reference:product_id'
            end
        ) as row_problem
    from parsed
    left join staged_orders on parsed.raw_order_id = staged_orders.order_id
    left join known_products on parsed.raw_product_id = known_products.product_id
),

{{ decide_quarantine(['return_id']) }}
