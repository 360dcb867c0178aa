{#-
  Journey KPIs per calendar month, lifecycle stage, needs segment and value
  tier. Months run from the first month of any customer's history to the
  as-of month; the as-of month ends on the as-of date. Stage "at month start"
  is the stage on the last day of the previous month, "at month end" the
  stage on the month's last day. Segment and tier are the customer's current
  ones (as of the as-of date; the needs and value marts keep no history), so
  a past month reads "how did today's top-tier customers move then".

  Counts are additive across rows; rates are not: to roll up, sum the
  numerator and denominator columns named in the YAML and divide.
-#}
{%- set max_months = 1200 -%}
with

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
        purchase_date,
        orders_count,
        net_revenue,
        gross_margin
    from {{ ref('int_journey__purchase_days') }}
),

survey_responses as (
    select
        customer_key,
        nps_category,
        cast(answered_at as date) as answered_date
    from {{ ref('int_customer__survey_responses') }}
),

customer_values as (
    select
        customer_key,
        value_tier,
        value_tier_rank,
        predicted_clv
    from {{ ref('customer_value') }}
),

customer_needs as (
    select
        customer_key,
        needs_segment_id,
        persona_name
    from {{ ref('customer_needs') }}
),

bounds as (
    select
        {{ dbt.date_trunc('month', 'min(valid_from)') }} as first_month,
        {{ dbt.date_trunc('month', as_of_date_literal()) }} as last_month
    from spells
),

-- Up to {{ max_months }} months of history (100 years).
months as (
    select
        month_start,
        case
            when {{ dbt.last_day('month_start', 'month') }} < {{ as_of_date_literal() }}
                then cast({{ dbt.last_day('month_start', 'month') }} as date)
            else {{ as_of_date_literal() }}
        end as month_end
    from (
        select
            cast({{ dbt.dateadd('month', 'series.generated_number - 1', 'bounds.first_month') }} as date)
                as month_start
        from ({{ dbt.generate_series(max_months) }}) as series
        cross join bounds
        where {{ dbt.dateadd('month', 'series.generated_number - 1', 'bounds.first_month') }} <= bounds.last_month
    ) as month_starts
),

-- The stage of every customer known by a month's end, on that day.
month_end_stages as (
    select
        months.month_start,
        spells.customer_key,
        spells.lifecycle_stage
    from months
    inner join spells
        on
            months.month_end >= spells.valid_from
            and (spells.valid_to is null or months.month_end < spells.valid_to)
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

transitions as (
    select
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
),

-- One row per fact, each attributed to the stage it is counted under.
facts as (
    -- Customers in the stage at month end, with their predicted CLV.
    select
        transitions.month_start,
        transitions.customer_key,
        transitions.stage_at_end as lifecycle_stage,
        1 as customers,
        0 as customers_at_start,
        0 as entries,
        0 as exits,
        0 as retained_customers,
        0 as churned_customers,
        0 as converted_customers,
        0 as reactivated_customers,
        0 as purchase_days,
        0 as orders,
        0 as revenue,
        0 as gross_margin,
        case when customer_values.predicted_clv is not null then 1 else 0 end as customers_with_clv,
        coalesce(customer_values.predicted_clv, 0) as predicted_clv,
        0 as nps_responses,
        0 as nps_promoters,
        0 as nps_detractors
    from transitions
    left join customer_values on transitions.customer_key = customer_values.customer_key
    union all
    -- Customers in the stage at month start, and where they were at month end.
    select
        month_start,
        customer_key,
        stage_at_start as lifecycle_stage,
        0 as customers,
        1 as customers_at_start,
        0 as entries,
        0 as exits,
        case when engaged_at_end then 1 else 0 end as retained_customers,
        case when churned_at_end and not churned_at_start then 1 else 0 end as churned_customers,
        case when phase_at_start = 'onboarding' and phase_at_end = 'loyalty' then 1 else 0 end as converted_customers,
        case when churned_at_start and purchased_in_month then 1 else 0 end as reactivated_customers,
        0 as purchase_days,
        0 as orders,
        0 as revenue,
        0 as gross_margin,
        0 as customers_with_clv,
        0 as predicted_clv,
        0 as nps_responses,
        0 as nps_promoters,
        0 as nps_detractors
    from transitions
    where stage_at_start is not null
    union all
    select
        cast({{ dbt.date_trunc('month', 'valid_from') }} as date) as month_start,
        customer_key,
        lifecycle_stage,
        0 as customers,
        0 as customers_at_start,
        1 as entries,
        0 as exits,
        0 as retained_customers,
        0 as churned_customers,
        0 as converted_customers,
        0 as reactivated_customers,
        0 as purchase_days,
        0 as orders,
        0 as revenue,
        0 as gross_margin,
        0 as customers_with_clv,
        0 as predicted_clv,
        0 as nps_responses,
        0 as nps_promoters,
        0 as nps_detractors
    from spells
    union all
    select
        cast({{ dbt.date_trunc('month', 'valid_to') }} as date) as month_start,
        customer_key,
        lifecycle_stage,
        0 as customers,
        0 as customers_at_start,
        0 as entries,
        1 as exits,
        0 as retained_customers,
        0 as churned_customers,
        0 as converted_customers,
        0 as reactivated_customers,
        0 as purchase_days,
        0 as orders,
        0 as revenue,
        0 as gross_margin,
        0 as customers_with_clv,
        0 as predicted_clv,
        0 as nps_responses,
        0 as nps_promoters,
        0 as nps_detractors
    from spells
    where valid_to is not null
    union all
    -- Purchases under the stage the customer is in on the purchase day (after it).
    select
        cast({{ dbt.date_trunc('month', 'purchase_days.purchase_date') }} as date) as month_start,
        purchase_days.customer_key,
        spells.lifecycle_stage,
        0 as customers,
        0 as customers_at_start,
        0 as entries,
        0 as exits,
        0 as retained_customers,
        0 as churned_customers,
        0 as converted_customers,
        0 as reactivated_customers,
        1 as purchase_days,
        purchase_days.orders_count as orders,
        purchase_days.net_revenue as revenue,
        purchase_days.gross_margin,
        0 as customers_with_clv,
        0 as predicted_clv,
        0 as nps_responses,
        0 as nps_promoters,
        0 as nps_detractors
    from purchase_days
    inner join spells
        on
            purchase_days.customer_key = spells.customer_key
            and purchase_days.purchase_date >= spells.valid_from
            and (spells.valid_to is null or purchase_days.purchase_date < spells.valid_to)
    union all
    -- NPS answers under the stage on the answer day.
    select
        cast({{ dbt.date_trunc('month', 'survey_responses.answered_date') }} as date) as month_start,
        survey_responses.customer_key,
        spells.lifecycle_stage,
        0 as customers,
        0 as customers_at_start,
        0 as entries,
        0 as exits,
        0 as retained_customers,
        0 as churned_customers,
        0 as converted_customers,
        0 as reactivated_customers,
        0 as purchase_days,
        0 as orders,
        0 as revenue,
        0 as gross_margin,
        0 as customers_with_clv,
        0 as predicted_clv,
        1 as nps_responses,
        case when survey_responses.nps_category = 'promoter' then 1 else 0 end as nps_promoters,
        case when survey_responses.nps_category = 'detractor' then 1 else 0 end as nps_detractors
    from survey_responses
    inner join spells
        on
            survey_responses.customer_key = spells.customer_key
            and survey_responses.answered_date >= spells.valid_from
            and (spells.valid_to is null or survey_responses.answered_date < spells.valid_to)
),

aggregated as (
    select
        facts.month_start,
        facts.lifecycle_stage,
        coalesce(customer_needs.needs_segment_id, 0) as needs_segment_id,
        coalesce(customer_values.value_tier, 'none') as value_tier,
        max(customer_needs.persona_name) as persona_name,
        max(customer_values.value_tier_rank) as value_tier_rank,
        sum(facts.customers) as customers,
        sum(facts.customers_at_start) as customers_at_start,
        sum(facts.entries) as entries,
        sum(facts.exits) as exits,
        sum(facts.retained_customers) as retained_customers,
        sum(facts.churned_customers) as churned_customers,
        sum(facts.converted_customers) as converted_customers,
        sum(facts.reactivated_customers) as reactivated_customers,
        sum(facts.purchase_days) as purchase_days,
        sum(facts.orders) as orders,
        sum(facts.revenue) as revenue,
        sum(facts.gross_margin) as gross_margin,
        sum(facts.customers_with_clv) as customers_with_clv,
        sum(facts.predicted_clv) as predicted_clv,
        sum(facts.nps_responses) as nps_responses,
        sum(facts.nps_promoters) as nps_promoters,
        sum(facts.nps_detractors) as nps_detractors
    from facts
    left join customer_needs on facts.customer_key = customer_needs.customer_key
    left join customer_values on facts.customer_key = customer_values.customer_key
    group by
        facts.month_start,
        facts.lifecycle_stage,
        coalesce(customer_needs.needs_segment_id, 0),
        coalesce(customer_values.value_tier, 'none')
),

final as (
    select
        {{ dbt.concat([
            as_text('aggregated.month_start'), "'|'", 'aggregated.lifecycle_stage', "'|'",
            as_text('aggregated.needs_segment_id'), "'|'", 'aggregated.value_tier',
        ]) }} as kpi_id,
        aggregated.month_start,
        months.month_end,
        aggregated.lifecycle_stage,
        stages.journey_phase,
        aggregated.needs_segment_id,
        aggregated.persona_name,
        aggregated.value_tier,
        aggregated.value_tier_rank,
        aggregated.customers,
        aggregated.customers_at_start,
        aggregated.entries,
        aggregated.exits,
        aggregated.retained_customers,
        aggregated.churned_customers,
        aggregated.converted_customers,
        aggregated.reactivated_customers,
        {{ safe_ratio('aggregated.retained_customers', 'aggregated.customers_at_start') }} as retention_rate,
        case
            when not stages.is_churned
                then {{ safe_ratio('aggregated.churned_customers', 'aggregated.customers_at_start') }}
        end as churn_rate,
        case
            when stages.journey_phase = 'onboarding'
                then {{ safe_ratio('aggregated.converted_customers', 'aggregated.customers_at_start') }}
        end as conversion_rate,
        case
            when stages.is_churned
                then {{ safe_ratio('aggregated.reactivated_customers', 'aggregated.customers_at_start') }}
        end as reactivation_rate,
        aggregated.purchase_days,
        aggregated.orders,
        aggregated.revenue,
        aggregated.gross_margin,
        aggregated.customers_with_clv,
        aggregated.predicted_clv,
        {{ safe_ratio('aggregated.predicted_clv', 'aggregated.customers_with_clv') }} as average_predicted_clv,
        aggregated.nps_responses,
        aggregated.nps_promoters,
        aggregated.nps_detractors,
        100 * {{ safe_ratio('aggregated.nps_promoters - aggregated.nps_detractors', 'aggregated.nps_responses') }}
            as nps
    from aggregated
    inner join months on aggregated.month_start = months.month_start
    left join stages on aggregated.lifecycle_stage = stages.lifecycle_stage
)

select * from final
