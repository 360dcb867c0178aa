{#- The staging decision for raw shop.order_lines: after parsing, a line is only
    as good as its order and its product; the clean rows then compete per line. -#}

with

parsed as (
    select * from {{ ref('base_shop__order_lines_parsed') }}
),

-- A line follows its order into the warehouse, or into quarantine
-- (after_as_of when the order is after it).
order_outcomes as (
    select
        order_id,
        max(case when quarantine_reason is null then 1 else 0 end) as is_staged,
        max(case when quarantine_reason = 'after_as_of' then 1 else 0 end) as is_after_as_of
    from {{ ref('base_shop__orders') }}
    where order_id is not null
    group by order_id
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
                when order_outcomes.order_id is null then 'orphan_reference:order_id'
                when order_outcomes.is_staged = 0 and order_outcomes.is_after_as_of = 1 then 'after_as_of:order_id'
                when order_outcomes.is_staged = 0 then 'parent_quarantined:order_id'
                when known_products.product_id is null then 'orphan_reference:product_id'
            end
        ) as row_problem
    from parsed
    left join order_outcomes on parsed.order_id = order_outcomes.order_id
    left join known_products on parsed.raw_product_id = known_products.product_id
),

{{ decide_quarantine(['order_id', 'line_number']) }}
