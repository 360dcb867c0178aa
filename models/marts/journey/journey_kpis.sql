{#-
  Journey KPIs per calendar month, lifecycle stage, needs segment and value
  tier. Months run from the first month of any customer's history to the
  as-of month; the as-of month ends on the as-of date. Stage "at month start"
  is the stage on the last day of the previous month, "at month end" the
  stage on the month's last day. Segment and tier are the customer's current
  ones (as of the as-of date; the needs and value marts keep no history), so
  a past month reads "how did today's top-tier customers move then". The
  months come from int_journey__months, each customer's facts per month and
  stage from int_journey__customer_stage_months; this model rolls them up.

  Counts are additive across rows; rates are not: to roll up, sum the
  numerator and denominator columns named in the YAML and divide.
-#}
{%- set measures = journey_stage_month_measures() -%}
with

months as (
    select
        month_start,
        month_end
    from {{ ref('int_journey__months') }}
),

stage_months as (
    select
        month_start,
        customer_key,
        lifecycle_stage,
        {%- for measure in measures %}
            {{ measure }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_journey__customer_stage_months') }}
),

stages as (
    select
        lifecycle_stage,
        journey_phase,
        is_churned
    from {{ ref('lifecycle_stages') }}
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

-- Customers counted at month end carry their current predicted CLV.
aggregated as (
    select
        stage_months.month_start,
        stage_months.lifecycle_stage,
        coalesce(customer_needs.needs_segment_id, 0) as needs_segment_id,
        coalesce(customer_values.value_tier, 'none') as value_tier,
        max(customer_needs.persona_name) as persona_name,
        max(customer_values.value_tier_rank) as value_tier_rank,
        {%- for measure in measures %}
            sum(stage_months.{{ measure }}) as {{ measure }},
        {%- endfor %}
        sum(case when customer_values.predicted_clv is not null then stage_months.customers else 0 end)
            as customers_with_clv,
        {{ exact_sum('stage_months.customers * coalesce(customer_values.predicted_clv, 0)') }} as predicted_clv
    from stage_months
    left join customer_needs on stage_months.customer_key = customer_needs.customer_key
    left join customer_values on stage_months.customer_key = customer_values.customer_key
    group by
        stage_months.month_start,
        stage_months.lifecycle_stage,
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
