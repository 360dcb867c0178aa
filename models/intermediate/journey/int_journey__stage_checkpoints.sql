{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 6.25 MiB there. -#}
{{ config(materialized='view') }}
{#-
  The lifecycle stage rules, in one place. A customer's stage can only change
  on a checkpoint day: the day they became known, a purchase day, the day a
  threshold set by their last purchase is reached (onboarding or reactivation
  window over, at risk, lapsed, P(alive) below its threshold), and the days a
  loyalty membership starts or ends. This model evaluates the rules on every
  such day up to the as-of date, using only what was known that day;
  customer_lifecycle_history collapses the result into spells, and
  customer_lifecycle is its open spell.

  The rules, first match wins (thresholds: seed lifecycle_thresholds):
    prospect     no purchase yet
    lapsed       days since the last purchase >= lapsed_after_days and, for a
                 repeat buyer with a P(alive) date, P(alive) below
                 p_alive_at_risk_below: silence alone does not make a
                 customer the model still thinks alive lapsed
    at_risk      days since the last purchase >= at_risk_after_days,
                 or P(alive) below p_alive_at_risk_below (repeat buyers)
    new          one purchase day so far, less than onboarding_days ago
    reactivated  the last purchase ended a lapse, less than reactivated_days ago
    loyal        at least loyal_min_purchase_days purchase days at a rhythm of at
                 most loyal_max_rhythm_days, or an active loyalty membership
                 (when loyal_membership_counts = 1)
    active       otherwise
  at_risk_after_days and lapsed_after_days are multiples of the customer's own
  rhythm where they have enough gaps, else the defaults (int_journey__purchase_days).
  P(alive) is evidence for repeat buyers only: BG/NBD sets it to 1 after a
  first purchase (nobody drops out before a repeat purchase), so one-time
  buyers move on silence alone. The P(alive) date is null, and the rules use
  silence alone, when the rule is off or the fit is not sound
  (int_journey__p_alive_dates). A purchase is a reactivation only when it
  ends a lapse by these rules: after the silence passed lapsed_after_days
  (int_journey__purchase_days.is_reactivation) and P(alive) had fallen below
  its threshold.
-#}
with

customers as (
    select
        customer_key,
        first_known_at
    from {{ ref('customer_360') }}
),

purchase_days as (
    select
        customer_key,
        purchase_date,
        purchase_number,
        next_purchase_date,
        rhythm_days,
        at_risk_after_days,
        lapsed_after_days,
        is_reactivation
    from {{ ref('int_journey__purchase_days') }}
),

p_alive_dates as (
    select
        customer_key,
        purchase_date,
        p_alive_at_risk_date
    from {{ ref('int_journey__p_alive_dates') }}
),

memberships as (
    select
        customer_key,
        cast(joined_at as date) as joined_date,
        cast(left_at as date) as left_date
    from {{ ref('int_customer__loyalty_memberships') }}
),

thresholds as (
    select
        onboarding_days,
        reactivated_days,
        loyal_min_purchase_days,
        loyal_max_rhythm_days,
        loyal_membership_counts
    from {{ ref('int_journey__thresholds') }}
),

-- Purchases of known customers only, with the day the next one ends their
-- reign (the day after the as-of date when there is none yet).
known_purchase_days as (
    select
        purchase_days.customer_key,
        purchase_days.purchase_date,
        purchase_days.purchase_number,
        coalesce(purchase_days.next_purchase_date, {{ journey_add_days(as_of_date_literal(), 1) }})
            as superseded_date,
        purchase_days.rhythm_days,
        purchase_days.at_risk_after_days,
        purchase_days.lapsed_after_days,
        -- The customer was lapsed the day before: silent long enough (purchase
        -- days) and, where the previous purchase set a P(alive) date, past it.
        purchase_days.is_reactivation
        and coalesce(
            purchase_days.purchase_date > lag(p_alive_dates.p_alive_at_risk_date) over (
                partition by purchase_days.customer_key order by purchase_days.purchase_date
            ),
            true
        ) as is_reactivation,
        p_alive_dates.p_alive_at_risk_date
    from purchase_days
    inner join customers on purchase_days.customer_key = customers.customer_key
    left join p_alive_dates
        on
            purchase_days.customer_key = p_alive_dates.customer_key
            and purchase_days.purchase_date = p_alive_dates.purchase_date
),

-- Every day on which the stage set by a purchase may change by the passing
-- of time, while that purchase is the customer's last one: the purchase day,
-- the end of onboarding (first purchase) or of the reactivated window (a
-- reactivation), the at-risk and lapsed thresholds and the P(alive) date.
{%- set purchase_checkpoints = [
    ('known_purchase_days.purchase_date', 'true'),
    (journey_add_days('known_purchase_days.purchase_date', 'thresholds.onboarding_days'),
        'known_purchase_days.purchase_number = 1'),
    (journey_add_days('known_purchase_days.purchase_date', 'thresholds.reactivated_days'),
        'known_purchase_days.is_reactivation'),
    (journey_add_days('known_purchase_days.purchase_date', 'known_purchase_days.at_risk_after_days'), 'true'),
    (journey_add_days('known_purchase_days.purchase_date', 'known_purchase_days.lapsed_after_days'), 'true'),
    ('known_purchase_days.p_alive_at_risk_date', 'known_purchase_days.p_alive_at_risk_date is not null'),
] %}
purchase_checkpoints as (
    {%- for checkpoint_date, condition in purchase_checkpoints %}
        select
            known_purchase_days.customer_key,
            known_purchase_days.superseded_date,
            {{ checkpoint_date }} as checkpoint_date
        from known_purchase_days
        cross join thresholds
        where {{ condition }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

checkpoint_days as (
    select
        customer_key,
        cast(first_known_at as date) as checkpoint_date
    from customers
    union
    select
        customer_key,
        checkpoint_date
    from purchase_checkpoints
    where checkpoint_date < superseded_date
    union
    select
        memberships.customer_key,
        memberships.joined_date as checkpoint_date
    from memberships
    inner join customers on memberships.customer_key = customers.customer_key
    union
    select
        memberships.customer_key,
        memberships.left_date as checkpoint_date
    from memberships
    inner join customers on memberships.customer_key = customers.customer_key
    where memberships.left_date is not null
),

-- What was known on each checkpoint day: the last purchase up to it and
-- whether a loyalty membership was running.
checkpoint_facts as (
    select
        checkpoint_days.customer_key,
        checkpoint_days.checkpoint_date,
        known_purchase_days.purchase_date as last_purchase_date,
        known_purchase_days.purchase_number as purchase_days_count,
        known_purchase_days.rhythm_days,
        known_purchase_days.at_risk_after_days,
        known_purchase_days.lapsed_after_days,
        known_purchase_days.is_reactivation as last_purchase_was_reactivation,
        known_purchase_days.p_alive_at_risk_date,
        {{ dbt.datediff('known_purchase_days.purchase_date', 'checkpoint_days.checkpoint_date', 'day') }}
            as days_since_last_purchase
    from checkpoint_days
    left join known_purchase_days
        on
            checkpoint_days.customer_key = known_purchase_days.customer_key
            and checkpoint_days.checkpoint_date >= known_purchase_days.purchase_date
            and checkpoint_days.checkpoint_date < known_purchase_days.superseded_date
    where checkpoint_days.checkpoint_date <= {{ as_of_date_literal() }}
),

membership_days as (
    select
        checkpoint_days.customer_key,
        checkpoint_days.checkpoint_date,
        count(memberships.customer_key) > 0 as is_loyalty_member
    from checkpoint_days
    left join memberships
        on
            checkpoint_days.customer_key = memberships.customer_key
            and checkpoint_days.checkpoint_date >= memberships.joined_date
            and (memberships.left_date is null or checkpoint_days.checkpoint_date < memberships.left_date)
    group by checkpoint_days.customer_key, checkpoint_days.checkpoint_date
),

final as (
    select
        {{ dbt.concat(['checkpoint_facts.customer_key', "'|'", as_text('checkpoint_facts.checkpoint_date')]) }}
            as checkpoint_id,
        checkpoint_facts.customer_key,
        checkpoint_facts.checkpoint_date,
        case
            when checkpoint_facts.last_purchase_date is null
                then 'prospect'
            when
                checkpoint_facts.days_since_last_purchase >= checkpoint_facts.lapsed_after_days
                and (
                    checkpoint_facts.p_alive_at_risk_date is null
                    or checkpoint_facts.checkpoint_date >= checkpoint_facts.p_alive_at_risk_date
                )
                then 'lapsed'
            when
                checkpoint_facts.days_since_last_purchase >= checkpoint_facts.at_risk_after_days
                or checkpoint_facts.checkpoint_date >= checkpoint_facts.p_alive_at_risk_date
                then 'at_risk'
            when
                checkpoint_facts.purchase_days_count = 1
                and checkpoint_facts.days_since_last_purchase < thresholds.onboarding_days
                then 'new'
            when
                checkpoint_facts.last_purchase_was_reactivation
                and checkpoint_facts.days_since_last_purchase < thresholds.reactivated_days
                then 'reactivated'
            when
                (
                    checkpoint_facts.purchase_days_count >= thresholds.loyal_min_purchase_days
                    and checkpoint_facts.rhythm_days <= thresholds.loyal_max_rhythm_days
                )
                or (membership_days.is_loyalty_member and thresholds.loyal_membership_counts)
                then 'loyal'
            else 'active'
        end as lifecycle_stage,
        checkpoint_facts.last_purchase_date,
        coalesce(checkpoint_facts.purchase_days_count, 0) as purchase_days_count,
        checkpoint_facts.days_since_last_purchase,
        checkpoint_facts.rhythm_days,
        checkpoint_facts.at_risk_after_days,
        checkpoint_facts.lapsed_after_days,
        checkpoint_facts.p_alive_at_risk_date,
        membership_days.is_loyalty_member
    from checkpoint_facts
    cross join thresholds
    inner join membership_days
        on
            checkpoint_facts.customer_key = membership_days.customer_key
            and checkpoint_facts.checkpoint_date = membership_days.checkpoint_date
)

select * from final
