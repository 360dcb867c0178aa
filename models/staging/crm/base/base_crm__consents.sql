{#- The staging decision for raw crm.consents: after parsing, a row whose
    customer is not staged in shop.customers is an orphan; the clean rows then
    compete per key. -#}

with

parsed as (
    select * from {{ ref('base_crm__consents_parsed') }}
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
    left join known_customers on parsed.customer_id = known_customers.customer_id
),

-- Two changes of one channel at the same instant: keep a withdrawal over a
-- grant, whichever file came later, because sending without consent is the
-- costlier mistake; then the later file.
{{ decide_quarantine(['customer_id', 'channel', 'changed_at'],
    newest_first=['case when is_granted then 1 else 0 end']) }}
