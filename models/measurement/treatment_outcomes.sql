{#-
  One row per assignment (own and external, treated and control) with what
  followed within its response window (int_measurement__assignment_outcomes:
  visits, conversion, orders, revenue, margin and, for treated customers,
  their message's fate). The customer's needs segment, value tier and
  lifecycle stage are those at assignment (int_measurement__assignment_context),
  and the pre-assignment history comes along, so effects and uplift models
  read one table. One row per assignment also for a shared control (an
  external control row without a treatment code): its treatment_code is null
  and compared_arms lists the arms of its campaign it is the control of; the
  fan-out to one comparison per arm happens in int_measurement__effect_sums
  (macros/measurement/compared_arms.sql).
-#}
with

assignments as (
    select
        assignment_key,
        assignment_source,
        assignment_id,
        campaign_id,
        customer_key,
        customer_id,
        treatment_code,
        channel,
        selection_method,
        holdout_type,
        assignment_group,
        is_treated,
        is_shared_control,
        compared_arms,
        assigned_at,
        response_window_end,
        is_window_complete,
        run_date
    from {{ ref('int_measurement__assignments') }}
),

context as (
    select
        assignment_key,
        orders_before,
        revenue_before,
        margin_before,
        tenure_days,
        days_since_last_purchase,
        needs_segment_id,
        persona_name,
        value_tier,
        value_tier_rank,
        lifecycle_stage
    from {{ ref('int_measurement__assignment_context') }}
),

outcomes as (
    select
        visited,
        sessions_count,
        converted,
        orders_count,
        revenue,
        margin,
        message_sent,
        message_delivered,
        message_opened,
        message_clicked,
        assignment_key
    from {{ ref('int_measurement__assignment_outcomes') }}
),

final as (
    select
        assignments.assignment_key,
        assignments.assignment_source,
        assignments.assignment_id,
        assignments.campaign_id,
        assignments.treatment_code,
        assignments.channel,
        assignments.selection_method,
        assignments.holdout_type,
        assignments.customer_key,
        assignments.customer_id,
        assignments.assignment_group,
        assignments.is_treated,
        assignments.is_shared_control,
        assignments.compared_arms,
        assignments.assigned_at,
        assignments.response_window_end,
        assignments.is_window_complete,
        assignments.run_date,
        context.needs_segment_id,
        context.persona_name,
        context.value_tier,
        context.value_tier_rank,
        context.lifecycle_stage,
        context.orders_before,
        context.revenue_before,
        context.margin_before,
        context.tenure_days,
        context.days_since_last_purchase,
        outcomes.visited,
        outcomes.sessions_count,
        outcomes.converted,
        outcomes.orders_count,
        outcomes.revenue,
        outcomes.margin,
        outcomes.message_sent,
        outcomes.message_delivered,
        outcomes.message_opened,
        outcomes.message_clicked
    from assignments
    left join context on assignments.assignment_key = context.assignment_key
    inner join outcomes on assignments.assignment_key = outcomes.assignment_key
)

-- Lean storage (docs/scale.md): several rows per customer, written in customer_key order so
-- each stored block holds few keys and compresses them.
select * from final
order by customer_key
