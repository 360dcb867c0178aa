{#-
  The value tiers as they stood on each assignment date: for every tier of
  seeds/value_tiers with a percentile, the least revenue before the date that
  reaches its percentile among the buyers of that date (the percent rank of
  their revenue before the date). A deterministic hash sample of var
  measurement_value_tier_sample_size buyers sets the thresholds, so the cost
  does not grow with the customer count. int_measurement__assignment_context
  places each assigned customer with them.
-#}
{%- set sample_size = var('measurement_value_tier_sample_size', 20000) -%}
with

assignments as (
    select assigned_date
    from {{ ref('int_measurement__assignments') }}
),

orders as (
    select
        customer_key,
        ordered_at,
        net_amount
    from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

value_tiers as (
    select
        value_tier,
        value_tier_rank,
        min_value_percentile
    from {{ ref('value_tiers') }}
),

assignment_dates as (
    select distinct
        assigned_date,
        cast(assigned_date as {{ dbt.type_timestamp() }}) as assigned_day_start
    from assignments
),

buyers as (
    select distinct customer_key
    from orders
),

buyer_sample as (
    {{ hash_sample('buyers', sample_size) }}
),

sample_orders as (
    select
        orders.customer_key,
        orders.ordered_at,
        orders.net_amount
    from orders
    inner join buyer_sample on orders.customer_key = buyer_sample.customer_key
),

sample_revenue as (
    select
        assignment_dates.assigned_date,
        sample_orders.customer_key,
        sum(sample_orders.net_amount) as revenue_before
    from assignment_dates
    inner join sample_orders on assignment_dates.assigned_day_start > sample_orders.ordered_at
    group by assignment_dates.assigned_date, sample_orders.customer_key
),

sample_percentiles as (
    select
        assigned_date,
        revenue_before,
        percent_rank() over (partition by assigned_date order by revenue_before) as revenue_percentile
    from sample_revenue
),

-- The least revenue that reaches each tier's percentile on each date.
final as (
    select
        sample_percentiles.assigned_date,
        value_tiers.value_tier,
        value_tiers.value_tier_rank,
        min(sample_percentiles.revenue_before) as min_revenue
    from sample_percentiles
    inner join value_tiers
        on sample_percentiles.revenue_percentile >= value_tiers.min_value_percentile
    group by sample_percentiles.assigned_date, value_tiers.value_tier, value_tiers.value_tier_rank
)

select * from final
