{#-
  When and on what the person is active, as averages rather than the 360's
  single most frequent value, so a few visits at odd hours do not flip the
  habit: the mean direction of the hour of day (sine and cosine of the hour on
  a 24-hour circle, so 23:00 and 01:00 are neighbours) and the weekend share
  over non-cancelled orders and browsing sessions (one per visit, however many
  events it holds), and the share of web events per device type.
-#}
{%- set devices = needs_device_types() -%}
with

orders as (
    select * from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

sessions as (
    select * from {{ ref('int_customer__web_sessions') }}
),

events as (
    select * from {{ ref('int_customer__web_events') }}
    where device_type is not null
),

activity as (
    select
        customer_key,
        ordered_at as active_at
    from orders
    union all
    select
        customer_key,
        started_at as active_at
    from sessions
),

activity_angles as (
    select
        customer_key,
        2 * pi() * (
            extract(hour from active_at) + extract(minute from active_at) / 60.0
        ) / 24 as hour_angle,
        case when {{ iso_weekday('cast(active_at as date)') }} >= 6 then 1.0 else 0.0 end as is_weekend
    from activity
),

time_habits as (
    select
        customer_key,
        count(*) as activities_count,
        -- Exact means (macros/sql/exact_aggregates.sql): the same in any row order.
        {{ exact_avg('sin(hour_angle)') }} as activity_hour_sin,
        {{ exact_avg('cos(hour_angle)') }} as activity_hour_cos,
        avg(is_weekend) as weekend_activity_share
    from activity_angles
    group by customer_key
),

device_habits as (
    select
        customer_key,
        {%- for device in devices %}
            avg(case when device_type = '{{ device }}' then 1.0 else 0.0 end)
                as device_share_{{ feature_column_suffix(device) }},
        {%- endfor %}
        count(*) as device_events_count
    from events
    group by customer_key
),

customers as (
    select customer_key from time_habits
    union
    select customer_key from device_habits
),

final as (
    select
        customers.customer_key,
        coalesce(time_habits.activities_count, 0) as activities_count,
        cast(time_habits.activity_hour_sin as {{ dbt.type_float() }}) as activity_hour_sin,
        cast(time_habits.activity_hour_cos as {{ dbt.type_float() }}) as activity_hour_cos,
        cast(time_habits.weekend_activity_share as {{ dbt.type_float() }}) as weekend_activity_share,
        {%- for device in devices %}
            {%- set column_name = 'device_share_' ~ feature_column_suffix(device) %}
            cast(device_habits.{{ column_name }} as {{ dbt.type_float() }}) as {{ column_name }},
        {%- endfor %}
        coalesce(device_habits.device_events_count, 0) as device_events_count
    from customers
    left join time_habits on customers.customer_key = time_habits.customer_key
    left join device_habits on customers.customer_key = device_habits.customer_key
)

select * from final
