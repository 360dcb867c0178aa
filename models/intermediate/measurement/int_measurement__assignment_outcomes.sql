{#-
  What followed each assignment within its response window [assigned_at,
  response_window_end), cut at the as-of date, one row per assignment:
  visits (web sessions started), conversion (at least one non-cancelled
  order), orders, revenue (net of line discounts, before returns) and margin
  (revenue less cost of goods). Treated
  customers also get their message's fate: for external campaigns the
  communications of the same campaign, for own assignments those of the same
  treatment sent from the assignment date to the window's end; controls get
  null. treatment_outcomes puts them beside the assignment and its context.
-#}
with

assignments as (
    select
        assignment_key,
        assignment_source,
        campaign_id,
        customer_key,
        treatment_code,
        is_treated,
        assigned_at,
        assigned_date,
        response_window_end
    from {{ ref('int_measurement__assignments') }}
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

-- Orders and web sessions, each with the columns only it fills.
activity as (
    select
        customer_key,
        ordered_at as occurred_at,
        ordered_at,
        cast(null as {{ dbt.type_timestamp() }}) as started_at,
        net_amount,
        cost_amount
    from orders
    union all
    select
        customer_key,
        started_at as occurred_at,
        cast(null as {{ dbt.type_timestamp() }}) as ordered_at,
        started_at,
        null as net_amount,
        null as cost_amount
    from sessions
),

activity_outcomes as (
    select
        assignments.assignment_key,
        count(activity.started_at) as sessions_count,
        count(activity.ordered_at) as orders_count,
        coalesce(sum(activity.net_amount), 0) as revenue,
        -- Margin is unknown when any order's cost is (a sum would skip it silently).
        case
            when count(activity.ordered_at) = count(activity.cost_amount)
                then coalesce(sum(activity.net_amount - activity.cost_amount), 0)
        end as margin
    from assignments
    inner join activity
        on
            assignments.customer_key = activity.customer_key
            and {{ measurement_in_response_window('activity.occurred_at') }}
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
        coalesce(activity_outcomes.sessions_count, 0) > 0 as visited,
        coalesce(activity_outcomes.sessions_count, 0) as sessions_count,
        coalesce(activity_outcomes.orders_count, 0) > 0 as converted,
        coalesce(activity_outcomes.orders_count, 0) as orders_count,
        coalesce(activity_outcomes.revenue, 0) as revenue,
        -- No activity in the window is no margin; an order of unknown cost stays unknown.
        case when activity_outcomes.assignment_key is null then 0 else activity_outcomes.margin end as margin,
        {%- for fate, column in [
            ('sent', 'coalesce(message_outcomes.messages_count, 0) > 0'),
            ('delivered', 'coalesce(message_outcomes.is_delivered, 0) = 1'),
            ('opened', 'coalesce(message_outcomes.is_opened, 0) = 1'),
            ('clicked', 'coalesce(message_outcomes.is_clicked, 0) = 1'),
        ] %}
            case when assignments.is_treated then {{ column }} end as message_{{ fate }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from assignments
    left join activity_outcomes on assignments.assignment_key = activity_outcomes.assignment_key
    left join message_outcomes on assignments.assignment_key = message_outcomes.assignment_key
)

select * from final
