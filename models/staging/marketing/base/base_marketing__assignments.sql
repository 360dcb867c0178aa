{#- The staging decision for raw marketing.assignments: after parsing, a row whose
    customer is not staged in shop.customers is an orphan; the clean rows then
    compete per key. -#}

with

parsed as (
    select * from {{ ref('base_marketing__assignments_parsed') }}
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
            case when known_customers.customer_id is null then 'orphan_reference:customer_id' end
        ) as row_problem
    from parsed
    left join known_customers on parsed.raw_customer_id = known_customers.customer_id
),

{{ decide_quarantine(['assignment_id']) }}
