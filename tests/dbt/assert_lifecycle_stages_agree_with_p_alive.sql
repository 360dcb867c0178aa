{{ config(meta={'dagster': {'ref': {'name': 'customer_lifecycle'}}}) }}
-- Lifecycle stages and BG/NBD P(alive) must not contradict each other: returns
-- repeat buyers (whose P(alive) is evidence; a one-time buyer's is 1 by the
-- model's assumption) in a lapsed stage with P(alive) at or above the seed's
-- p_alive_at_risk_below, or in an engaged stage (active, loyal, reactivated)
-- with P(alive) below it. The rules make both impossible while the P(alive)
-- rule is on (threshold above 0) and this build's BG/NBD fit is sound
-- (fit_status 'ok'); otherwise silence alone decides and nothing is compared.
with

thresholds as (
    select p_alive_at_risk_below
    from {{ ref('int_journey__thresholds') }}
),

latest_fit as (
    select
        coalesce(fit_status, 'ok') as fit_status,
        row_number() over (order by fitted_at desc, fit_id desc) as recency_rank
    from {{ ref('clv_model_fit') }}
    where
        model_name = 'bg_nbd'
        and as_of_date = {{ as_of_date_literal() }}
),

rule_in_force as (
    select thresholds.p_alive_at_risk_below
    from thresholds
    cross join latest_fit
    where
        latest_fit.recency_rank = 1
        and latest_fit.fit_status = 'ok'
        and thresholds.p_alive_at_risk_below > 0
),

repeat_buyers as (
    select
        customer_key,
        lifecycle_stage,
        p_alive
    from {{ ref('customer_lifecycle') }}
    where purchase_days_count > 1 and p_alive is not null
)

select
    repeat_buyers.customer_key,
    repeat_buyers.lifecycle_stage,
    repeat_buyers.p_alive,
    rule_in_force.p_alive_at_risk_below
from repeat_buyers
cross join rule_in_force
where
    (
        repeat_buyers.lifecycle_stage = 'lapsed'
        and repeat_buyers.p_alive >= rule_in_force.p_alive_at_risk_below + 1e-9
    )
    or (
        repeat_buyers.lifecycle_stage in ('active', 'loyal', 'reactivated')
        and repeat_buyers.p_alive < rule_in_force.p_alive_at_risk_below - 1e-9
    )
