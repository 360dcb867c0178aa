{#- The staging decision for raw shop.orders: a parsed row whose account is not
    staged is an orphan; the clean rows then compete per order_id. -#}

with

parsed as (
    select * from {{ ref('base_shop__orders_parsed') }}
),

known_customers as (
    select distinct customer_id from {{ ref('base_shop__customers') }}
    where quarantine_reason is null
),

checked as (
    select
        parsed.*,
        coalesce(
            parsed.parse_problem,
            case
                when parsed.raw_customer_id is not null and known_customers.customer_id is null
                    then 'orphan_reference:customer_id'
            end
        ) as row_problem
    from parsed
    left join known_customers on parsed.raw_customer_id = known_customers.customer_id
),

{{ decide_quarantine(['order_id']) }}
