{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 14.75 MiB there. -#}
{{ config(materialized='view') }}
{#-
  One row per customer and month (int_journey__months) from the first month
  they are known in: their stage at month start (the stage on the last day of
  the month before; null in their first month) and at month end (on the
  month's last day, the as-of date for the as-of month), those stages' phase
  and flags, and whether they bought in the month. journey_kpis counts its
  cohorts and transitions from these rows.
-#}
with

months as (
    select
        month_start,
        month_end
    from {{ ref('int_journey__months') }}
),

spells as (
    select
        customer_key,
        lifecycle_stage,
        valid_from,
        valid_to
    from {{ ref('customer_lifecycle_history') }}
),

stages as (
    select
        lifecycle_stage,
        journey_phase,
        is_engaged,
        is_churned
    from {{ ref('lifecycle_stages') }}
),

purchase_days as (
    select
        customer_key,
        purchase_date
    from {{ ref('int_journey__purchase_days') }}
),

-- The stage of every customer known by a month's end, on that day.
month_end_stages as (
    select
        months.month_start,
        spells.customer_key,
        spells.lifecycle_stage
    from months
    inner join spells
        on {{ journey_in_spell('months.month_end') }}
),

month_purchases as (
    select
        customer_key,
        cast({{ dbt.date_trunc('month', 'purchase_date') }} as date) as month_start,
        count(*) as purchase_days_count
    from purchase_days
    group by customer_key, cast({{ dbt.date_trunc('month', 'purchase_date') }} as date)
),

customer_months as (
    select
        month_start,
        customer_key,
        lifecycle_stage as stage_at_end,
        lag(lifecycle_stage) over (partition by customer_key order by month_start) as stage_at_start
    from month_end_stages
),

final as (
    select
        {{ dbt.concat(['customer_months.customer_key', "'|'", as_text('customer_months.month_start')]) }}
            as customer_month_id,
        customer_months.month_start,
        customer_months.customer_key,
        customer_months.stage_at_start,
        customer_months.stage_at_end,
        start_stages.journey_phase as phase_at_start,
        start_stages.is_churned as churned_at_start,
        end_stages.journey_phase as phase_at_end,
        end_stages.is_engaged as engaged_at_end,
        end_stages.is_churned as churned_at_end,
        month_purchases.customer_key is not null as purchased_in_month
    from customer_months
    left join stages as start_stages on customer_months.stage_at_start = start_stages.lifecycle_stage
    left join stages as end_stages on customer_months.stage_at_end = end_stages.lifecycle_stage
    left join month_purchases
        on
            customer_months.customer_key = month_purchases.customer_key
            and customer_months.month_start = month_purchases.month_start
)

select * from final
