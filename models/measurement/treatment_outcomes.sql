{#-
  One row per assignment (own and external, treated and control) with what
  followed within its response window [assigned_at, response_window_end),
  cut at the as-of date: visits (web sessions started), conversion (at least
  one non-cancelled order), orders, revenue (net of line discounts, before
  returns) and margin (revenue less cost of goods). Treated customers also get
  their message's fate: for external campaigns the communications of the same
  campaign, for own assignments those of the same treatment sent from the
  assignment date to the window's end; controls get null. The customer's
  needs segment, value tier and lifecycle stage are those at assignment
  (int_measurement__assignment_context), and the pre-assignment history comes
  along, so effects and uplift models read one table. One row per assignment
  also for a shared control (an external control row without a treatment
  code): its treatment_code is null and compared_arms lists the arms of its
  campaign it is the control of; the fan-out to one comparison per arm happens
  in int_measurement__effect_sums (macros/measurement/compared_arms.sql).
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
        assigned_date,
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

orders as (
    select
        customer_key,
        ordered_at,
        net_amount,
        cost_amount
    from {{ ref('int_customer__orders') }}
    where
        not is_cancelled
        and ordered_at < {{ as_of_upper_bound() }}
),

sessions as (
    select
        customer_key,
        started_at
    from {{ ref('int_customer__web_sessions') }}
    where started_at < {{ as_of_upper_bound() }}
),

communications as (
    select
        customer_key,
        campaign_id,
        treatment_code,
        sent_at,
        delivered_at,
        opened_at,
        clicked_at
    from {{ ref('int_customer__communications') }}
),

order_outcomes as (
    select
        assignments.assignment_key,
        count(orders.ordered_at) as orders_count,
        coalesce(sum(orders.net_amount), 0) as revenue,
        -- Margin is unknown when any order's cost is (a sum would skip it silently).
        case
            when count(orders.ordered_at) = count(orders.cost_amount)
                then coalesce(sum(orders.net_amount - orders.cost_amount), 0)
        end as margin
    from assignments
    inner join orders
        on
            assignments.customer_key = orders.customer_key
            and assignments.assigned_at <= orders.ordered_at
            and assignments.response_window_end > orders.ordered_at
    group by assignments.assignment_key
),

visit_outcomes as (
    select
        assignments.assignment_key,
        count(*) as sessions_count
    from assignments
    inner join sessions
        on
            assignments.customer_key = sessions.customer_key
            and assignments.assigned_at <= sessions.started_at
            and assignments.response_window_end > sessions.started_at
    group by assignments.assignment_key
),

message_outcomes as (
    select
        assignments.assignment_key,
        count(*) as messages_count,
        max(case when communications.delivered_at is not null then 1 else 0 end) as is_delivered,
        max(
            case
                when communications.opened_at < assignments.response_window_end then 1 else 0
            end
        ) as is_opened,
        max(
            case
                when communications.clicked_at < assignments.response_window_end then 1 else 0
            end
        ) as is_clicked
    from assignments
    inner join communications
        on
            assignments.customer_key = communications.customer_key
            and (
                (
                    assignments.assignment_source = 'external'
                    and assignments.campaign_id = communications.campaign_id
                )
                or (
                    assignments.assignment_source = 'own'
                    and assignments.treatment_code = communications.treatment_code
                    and cast(assignments.assigned_date as {{ dbt.type_timestamp() }}) <= communications.sent_at
                    and assignments.response_window_end > communications.sent_at
                )
            )
    where assignments.is_treated
    group by assignments.assignment_key
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
        coalesce(visit_outcomes.sessions_count, 0) > 0 as visited,
        coalesce(visit_outcomes.sessions_count, 0) as sessions_count,
        coalesce(order_outcomes.orders_count, 0) > 0 as converted,
        coalesce(order_outcomes.orders_count, 0) as orders_count,
        coalesce(order_outcomes.revenue, 0) as revenue,
        coalesce(order_outcomes.margin, 0) as margin,
        case when assignments.is_treated then coalesce(message_outcomes.messages_count, 0) > 0 end
            as message_sent,
        case when assignments.is_treated then coalesce(message_outcomes.is_delivered, 0) = 1 end
            as message_delivered,
        case when assignments.is_treated then coalesce(message_outcomes.is_opened, 0) = 1 end
            as message_opened,
        case when assignments.is_treated then coalesce(message_outcomes.is_clicked, 0) = 1 end
            as message_clicked
    from assignments
    left join context on assignments.assignment_key = context.assignment_key
    left join order_outcomes on assignments.assignment_key = order_outcomes.assignment_key
    left join visit_outcomes on assignments.assignment_key = visit_outcomes.assignment_key
    left join message_outcomes on assignments.assignment_key = message_outcomes.assignment_key
)

select
    assignment_key,
    assignment_source,
    assignment_id,
    campaign_id,
    treatment_code,
    channel,
    selection_method,
    holdout_type,
    customer_key,
    customer_id,
    assignment_group,
    is_treated,
    is_shared_control,
    compared_arms,
    assigned_at,
    response_window_end,
    is_window_complete,
    run_date,
    needs_segment_id,
    persona_name,
    value_tier,
    value_tier_rank,
    lifecycle_stage,
    orders_before,
    revenue_before,
    margin_before,
    tenure_days,
    days_since_last_purchase,
    visited,
    sessions_count,
    converted,
    orders_count,
    revenue,
    margin,
    message_sent,
    message_delivered,
    message_opened,
    message_clicked
from final
