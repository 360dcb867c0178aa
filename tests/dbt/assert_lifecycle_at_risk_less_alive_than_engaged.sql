{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'customer_lifecycle'}}}) }}
-- On average, repeat buyers at risk must look less alive to BG/NBD than
-- engaged ones (active, loyal, reactivated): returns one row when the mean
-- P(alive) of the at_risk group is not below that of the engaged group (each
-- at least 30 customers). One-time buyers are left out: their P(alive) is 1
-- by the model's assumption (customer_lifecycle.is_p_alive_assumed). A
-- warning, not an error: the rules do not force it, but when it fails the
-- rhythm thresholds (seed lifecycle_thresholds) call customers at risk whom
-- the purchase model still sees as the most alive, and need a look.
with

repeat_buyers as (
    select
        lifecycle_stage,
        p_alive
    from {{ ref('customer_lifecycle') }}
    where purchase_days_count > 1 and p_alive is not null
),

groups as (
    select
        avg(case when lifecycle_stage = 'at_risk' then p_alive end) as at_risk_mean_p_alive,
        sum(case when lifecycle_stage = 'at_risk' then 1 else 0 end) as at_risk_customers,
        avg(case when lifecycle_stage in ('active', 'loyal', 'reactivated') then p_alive end)
            as engaged_mean_p_alive,
        sum(case when lifecycle_stage in ('active', 'loyal', 'reactivated') then 1 else 0 end)
            as engaged_customers
    from repeat_buyers
)

select
    at_risk_mean_p_alive,
    at_risk_customers,
    engaged_mean_p_alive,
    engaged_customers
from groups
where
    at_risk_customers >= 30
    and engaged_customers >= 30
    and at_risk_mean_p_alive >= engaged_mean_p_alive
