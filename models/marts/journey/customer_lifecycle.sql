{#-
  The lifecycle stage of every known customer (one row per customer_key of
  customer_360) as of the as-of date: the open spell of
  customer_lifecycle_history, with the facts the stage rules looked at and the
  days on which the customer becomes at risk and lapsed if they do not buy.
  The rules are in int_journey__stage_checkpoints, the thresholds in the seed
  lifecycle_thresholds, the stages in the seed lifecycle_stages.
-#}
with

customers as (
    select customer_key
    from {{ ref('customer_360') }}
),

spells as (
    select
        customer_key,
        lifecycle_stage,
        stage_order,
        journey_phase,
        previous_stage,
        valid_from,
        days_in_stage,
        spell_number
    from {{ ref('customer_lifecycle_history') }}
    where is_current
),

last_purchases as (
    select
        customer_key,
        purchase_date,
        purchase_number,
        first_purchase_date,
        rhythm_days,
        rhythm_source,
        at_risk_after_days,
        lapsed_after_days
    from {{ ref('int_journey__purchase_days') }}
    where next_purchase_date is null
),

p_alive_dates as (
    select
        customer_key,
        purchase_date,
        p_alive,
        p_alive_at_risk_date
    from {{ ref('int_journey__p_alive_dates') }}
),

checkpoints as (
    select
        customer_key,
        is_loyalty_member,
        row_number() over (partition by customer_key order by checkpoint_date desc) as recency_rank
    from {{ ref('int_journey__stage_checkpoints') }}
),

final as (
    select
        customers.customer_key,
        {{ as_of_date_literal() }} as as_of_date,
        spells.lifecycle_stage,
        spells.stage_order,
        spells.journey_phase,
        spells.valid_from as stage_entered_at,
        spells.days_in_stage,
        spells.previous_stage,
        spells.spell_number - 1 as stage_changes_count,
        coalesce(last_purchases.purchase_number, 0) as purchase_days_count,
        last_purchases.first_purchase_date,
        last_purchases.purchase_date as last_purchase_date,
        {{ dbt.datediff('last_purchases.purchase_date', as_of_date_literal(), 'day') }}
            as days_since_last_purchase,
        last_purchases.rhythm_days,
        last_purchases.rhythm_source,
        last_purchases.at_risk_after_days,
        last_purchases.lapsed_after_days,
        -- The day the customer is (or was) first counted at risk / lapsed
        -- unless they buy before it.
        case
            when
                p_alive_dates.p_alive_at_risk_date
                < {{ journey_add_days('last_purchases.purchase_date', 'last_purchases.at_risk_after_days') }}
                then p_alive_dates.p_alive_at_risk_date
            else {{ journey_add_days('last_purchases.purchase_date', 'last_purchases.at_risk_after_days') }}
        end as at_risk_from,
        -- Lapsed needs the silence and, where there is a P(alive) date, P(alive) below its threshold.
        case
            when
                p_alive_dates.p_alive_at_risk_date
                > {{ journey_add_days('last_purchases.purchase_date', 'last_purchases.lapsed_after_days') }}
                then p_alive_dates.p_alive_at_risk_date
            else {{ journey_add_days('last_purchases.purchase_date', 'last_purchases.lapsed_after_days') }}
        end as lapsed_from,
        p_alive_dates.p_alive,
        -- BG/NBD's P(alive) of a one-time buyer is 1 by assumption, not evidence.
        case when p_alive_dates.p_alive is not null then last_purchases.purchase_number = 1 end
            as is_p_alive_assumed,
        coalesce(checkpoints.is_loyalty_member, false) as is_loyalty_member
    from customers
    left join spells on customers.customer_key = spells.customer_key
    left join last_purchases on customers.customer_key = last_purchases.customer_key
    left join p_alive_dates
        on
            last_purchases.customer_key = p_alive_dates.customer_key
            and last_purchases.purchase_date = p_alive_dates.purchase_date
    left join checkpoints
        on
            customers.customer_key = checkpoints.customer_key
            and checkpoints.recency_rank = 1
)

select * from final
