{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 2.25 MiB there. -#}
{{ config(materialized='view') }}
{#-
  What was known about each assigned customer when the assignment was made:
  their purchase history before the assignment date, and the needs segment,
  value tier and lifecycle stage at that time. Breaking effects down by
  attributes measured after the assignment would let the treatment move
  customers between the cells it is measured in (a treated customer's extra
  purchase raises their tier, or lifts them out of the cold-start segment),
  so every attribute here depends on data before the assignment date only,
  except the needs segment's id, which comes from the latest fit:
  - lifecycle stage: the customer_lifecycle_history spell of the day before
    the assignment date ('unknown' before the customer was known);
  - needs segment: 0 ('unknown', cold start) when the customer had fewer
    than var needs_min_orders non-cancelled orders before the assignment
    date, else their current segment (needs are stable; the fit keeps ids);
  - value tier: the highest tier whose threshold on the assignment date
    (int_measurement__value_tier_thresholds: the tiers of seeds/value_tiers
    applied to the percent rank of revenue before the date) the customer's
    revenue before the date reaches; the current-value part of
    customer_value's score, as a predicted CLV of the past does not exist.
    No purchase before the date: the no-purchase tier.
-#}
with

assignments as (
    select
        assignment_key,
        customer_key,
        assigned_date,
        cast(assigned_date as {{ dbt.type_timestamp() }}) as assigned_day_start
    from {{ ref('int_measurement__assignments') }}
),

orders as (
    select
        customer_key,
        ordered_at,
        net_amount,
        net_amount - cost_amount as margin_amount
    from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

lifecycle_history as (
    select
        customer_key,
        lifecycle_stage,
        valid_from,
        valid_to
    from {{ ref('customer_lifecycle_history') }}
),

customer_needs as (
    select
        customer_key,
        needs_segment_id
    from {{ ref('customer_needs') }}
),

segment_names as (
    select
        needs_segment_id,
        max(persona_name) as persona_name
    from {{ ref('customer_needs') }}
    group by needs_segment_id
),

personas as (
    select
        segment_id,
        persona_name
    from {{ ref('needs_personas') }}
),

value_tiers as (
    select
        value_tier,
        value_tier_rank,
        min_value_percentile
    from {{ ref('value_tiers') }}
),

tier_thresholds as (
    select
        assigned_date,
        value_tier_rank,
        min_revenue
    from {{ ref('int_measurement__value_tier_thresholds') }}
),

history_before as (
    select
        assignments.assignment_key,
        count(orders.ordered_at) as orders_before,
        coalesce(sum(orders.net_amount), 0) as revenue_before,
        coalesce(sum(orders.margin_amount), 0) as margin_before,
        min(orders.ordered_at) as first_purchase_at,
        max(orders.ordered_at) as last_purchase_at
    from assignments
    left join orders
        on
            assignments.customer_key = orders.customer_key
            and assignments.assigned_day_start > orders.ordered_at
    group by assignments.assignment_key
),

buyer_tiers as (
    select
        assignments.assignment_key,
        min(tier_thresholds.value_tier_rank) as value_tier_rank
    from assignments
    inner join history_before
        on
            assignments.assignment_key = history_before.assignment_key
            and history_before.orders_before > 0
    inner join tier_thresholds
        on
            assignments.assigned_date = tier_thresholds.assigned_date
            and history_before.revenue_before >= tier_thresholds.min_revenue
    group by assignments.assignment_key
),

lowest_buyer_tier as (
    select max(value_tier_rank) as value_tier_rank
    from value_tiers
    where min_value_percentile is not null
),

no_purchase_tier as (
    select
        value_tier,
        value_tier_rank
    from value_tiers
    where min_value_percentile is null
),

stages as (
    select
        assignments.assignment_key,
        max(lifecycle_history.lifecycle_stage) as lifecycle_stage
    from assignments
    inner join lifecycle_history
        on
            assignments.customer_key = lifecycle_history.customer_key
            and assignments.assigned_date > lifecycle_history.valid_from
            and (lifecycle_history.valid_to is null or assignments.assigned_date <= lifecycle_history.valid_to)
    group by assignments.assignment_key
),

combined as (
    select
        assignments.assignment_key,
        assignments.customer_key,
        assignments.assigned_date,
        history_before.orders_before,
        history_before.revenue_before,
        history_before.margin_before,
        history_before.first_purchase_at,
        history_before.last_purchase_at,
        case
            when history_before.orders_before >= {{ var('needs_min_orders', 2) }}
                then coalesce(customer_needs.needs_segment_id, 0)
            else 0
        end as needs_segment_id,
        case
            when history_before.orders_before = 0 then no_purchase_tier.value_tier_rank
            else coalesce(buyer_tiers.value_tier_rank, lowest_buyer_tier.value_tier_rank)
        end as value_tier_rank,
        coalesce(stages.lifecycle_stage, 'unknown') as lifecycle_stage
    from assignments
    left join history_before on assignments.assignment_key = history_before.assignment_key
    left join customer_needs on assignments.customer_key = customer_needs.customer_key
    left join buyer_tiers on assignments.assignment_key = buyer_tiers.assignment_key
    left join stages on assignments.assignment_key = stages.assignment_key
    cross join lowest_buyer_tier
    cross join no_purchase_tier
),

final as (
    select
        combined.assignment_key,
        combined.customer_key,
        combined.orders_before,
        combined.revenue_before,
        combined.margin_before,
        combined.first_purchase_at,
        combined.last_purchase_at,
        {{ dbt.datediff('cast(combined.first_purchase_at as date)', 'combined.assigned_date', 'day') }}
            as tenure_days,
        {{ dbt.datediff('cast(combined.last_purchase_at as date)', 'combined.assigned_date', 'day') }}
            as days_since_last_purchase,
        combined.needs_segment_id,
        coalesce(segment_names.persona_name, personas.persona_name, 'unknown') as persona_name,
        value_tiers.value_tier,
        combined.value_tier_rank,
        combined.lifecycle_stage
    from combined
    left join segment_names on combined.needs_segment_id = segment_names.needs_segment_id
    left join personas on combined.needs_segment_id = personas.segment_id
    left join value_tiers on combined.value_tier_rank = value_tiers.value_tier_rank
)

select * from final
