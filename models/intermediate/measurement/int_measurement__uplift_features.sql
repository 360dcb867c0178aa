{{ config(schema='intermediate') }}
{#-
  What the uplift models learn from and score, one row per observation of
  int_measurement__uplift_observations (training: an assignment with a
  complete response window and its arm; scoring: a customer of the 360).
  Both get the same features computed by the same code as of their reference
  instant (the assignment's assigned_at, or the end of the as-of date), from
  data before it only: a treated customer's response must not leak into the
  features that are meant to predict it. The needs segment's id comes from
  the latest fit in both (see int_measurement__assignment_context). Margin is
  net revenue less cost of goods, before returns (refunds carry no date of
  their own here). Category and channel columns follow
  macros/features/feature_lists.sql.
-#}
{%- set categories = feature_categories() -%}
{%- set channels = feature_sales_channels() -%}
with

observations as (
    select
        observation_key,
        observation_role,
        customer_key,
        treatment_code,
        assignment_source,
        is_treated,
        converted,
        margin,
        needs_segment_id,
        lifecycle_stage,
        reference_at
    from {{ ref('int_measurement__uplift_observations') }}
),

orders as (
    select
        customer_key,
        ordered_at,
        channel,
        gross_amount,
        discount_amount,
        net_amount,
        cost_amount
    from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

order_lines as (
    select
        customer_key,
        ordered_at,
        category,
        net_amount
    from {{ ref('int_customer__order_lines') }}
    where not is_cancelled
),

sessions as (
    select
        customer_key,
        started_at
    from {{ ref('int_customer__web_sessions') }}
),

memberships as (
    select
        customer_key,
        joined_at,
        left_at
    from {{ ref('int_customer__loyalty_memberships') }}
),

order_history as (
    select
        observations.observation_key,
        count(*) as orders_count,
        min(orders.ordered_at) as first_ordered_at,
        max(orders.ordered_at) as last_ordered_at,
        count(
            case when orders.ordered_at >= {{ dbt.dateadd('day', -90, 'observations.reference_at') }} then 1 end
        ) as orders_last_90_days,
        count(
            case when orders.ordered_at >= {{ dbt.dateadd('day', -365, 'observations.reference_at') }} then 1 end
        ) as orders_last_365_days,
        sum(orders.net_amount) as net_revenue,
        sum(
            case
                when orders.ordered_at >= {{ dbt.dateadd('day', -365, 'observations.reference_at') }}
                    then orders.net_amount
                else 0
            end
        ) as net_revenue_last_365_days,
        sum(orders.net_amount - orders.cost_amount) as gross_margin,
        {%- for channel in channels %}
            {%- set channel_orders = "count(case when orders.channel = '" ~ channel ~ "' then 1 end)" %}
            {{ safe_ratio(channel_orders, 'count(*)') }} as channel_share_{{ feature_column_suffix(channel) }},
        {%- endfor %}
        {{ safe_ratio('sum(orders.discount_amount)', 'sum(orders.gross_amount)') }} as discount_share
    from observations
    inner join orders
        on
            observations.customer_key = orders.customer_key
            and observations.reference_at > orders.ordered_at
    group by observations.observation_key
),

category_history as (
    select
        {%- for category in categories %}
            {%- set category_revenue = "sum(case when order_lines.category = '" ~ category
                ~ "' then order_lines.net_amount else 0 end)" %}
            {{ safe_ratio(category_revenue, 'sum(order_lines.net_amount)') }}
                as category_share_{{ feature_column_suffix(category) }},
        {%- endfor %}
        observations.observation_key
    from observations
    inner join order_lines
        on
            observations.customer_key = order_lines.customer_key
            and observations.reference_at > order_lines.ordered_at
    group by observations.observation_key
),

session_history as (
    select
        observations.observation_key,
        count(*) as sessions_last_90_days
    from observations
    inner join sessions
        on
            observations.customer_key = sessions.customer_key
            and observations.reference_at > sessions.started_at
            and {{ dbt.dateadd('day', -90, 'observations.reference_at') }} <= sessions.started_at
    group by observations.observation_key
),

membership_at as (
    select distinct observations.observation_key
    from observations
    inner join memberships
        on
            observations.customer_key = memberships.customer_key
            and observations.reference_at > memberships.joined_at
            and (memberships.left_at is null or observations.reference_at <= memberships.left_at)
),

final as (
    select
        observations.observation_key,
        observations.observation_role,
        {{ as_of_date_literal() }} as as_of_date,
        observations.customer_key,
        observations.treatment_code,
        observations.assignment_source,
        observations.is_treated,
        observations.converted,
        observations.margin,
        {{ as_text('observations.needs_segment_id') }} as needs_segment_id,
        observations.lifecycle_stage,
        coalesce(order_history.orders_count, 0) as orders_count,
        {{ dbt.datediff('order_history.first_ordered_at', 'observations.reference_at', 'day') }}
            as days_since_first_order,
        {{ dbt.datediff('order_history.last_ordered_at', 'observations.reference_at', 'day') }}
            as days_since_last_order,
        coalesce(order_history.orders_last_90_days, 0) as orders_last_90_days,
        coalesce(order_history.orders_last_365_days, 0) as orders_last_365_days,
        coalesce(order_history.net_revenue, 0) as net_revenue,
        coalesce(order_history.net_revenue_last_365_days, 0) as net_revenue_last_365_days,
        coalesce(order_history.gross_margin, 0) as gross_margin,
        order_history.discount_share,
        {%- for channel in channels %}
            order_history.channel_share_{{ feature_column_suffix(channel) }},
        {%- endfor %}
        {%- for category in categories %}
            category_history.category_share_{{ feature_column_suffix(category) }},
        {%- endfor %}
        coalesce(session_history.sessions_last_90_days, 0) as sessions_last_90_days,
        membership_at.observation_key is not null as is_loyalty_member
    from observations
    left join order_history on observations.observation_key = order_history.observation_key
    left join category_history on observations.observation_key = category_history.observation_key
    left join session_history on observations.observation_key = session_history.observation_key
    left join membership_at on observations.observation_key = membership_at.observation_key
)

select * from final
