{#- The staging decision for raw crm.service_cases: after parsing, a row whose
    customer is not staged in shop.customers is an orphan; the clean rows then
    compete per key. -#}

with

parsed as (
    select * from {{ ref('base_crm__service_cases_parsed') }}
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

-- A case is re-sent as it changes (opened, then resolved): the version with the latest
-- status timestamp (resolved_at, else opened_at) is the newest; then the later file.
{{ decide_quarantine(['case_id'], newest_first=['coalesce(resolved_at, opened_at) desc']) }}
