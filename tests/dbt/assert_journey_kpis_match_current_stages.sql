{{ config(meta={'dagster': {'ref': {'name': 'journey_kpis'}}}) }}
-- The KPIs' stock at the end of the as-of month is today's stages: per stage,
-- sum(customers) equals the customers of customer_lifecycle in it.
with

kpis as (
    select
        lifecycle_stage,
        sum(customers) as customers
    from {{ ref('journey_kpis') }}
    where month_end = {{ as_of_date_literal() }}
    group by lifecycle_stage
),

current_stages as (
    select
        lifecycle_stage,
        count(*) as customers
    from {{ ref('customer_lifecycle') }}
    group by lifecycle_stage
)

select
    coalesce(kpis.lifecycle_stage, current_stages.lifecycle_stage) as lifecycle_stage,
    kpis.customers as kpi_customers,
    current_stages.customers as current_customers
from kpis
full outer join current_stages on kpis.lifecycle_stage = current_stages.lifecycle_stage
where coalesce(kpis.customers, 0) != coalesce(current_stages.customers, 0)
