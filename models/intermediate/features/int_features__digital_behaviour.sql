{#-
  Browsing on the website and app. Each window is the N days ending on the
  as-of date (N from macros/features/feature_lists.sql); sessions and cart
  abandons count in the window their session started in.
-#}
{%- set windows = feature_activity_windows() -%}
{%- set event_measures = {'product_view': 'product_views', 'search': 'searches', 'add_to_cart': 'cart_adds'} -%}
with

events as (
    select * from {{ ref('int_customer__web_events') }}
    where occurred_at < {{ as_of_upper_bound() }}
),

sessions as (
    select * from {{ ref('int_customer__web_sessions') }}
    where started_at < {{ as_of_upper_bound() }}
),

event_counts as (
    select
        customer_key,
        {%- for days in windows %}
            {%- for event_name, measure in event_measures.items() %}
                count(
                    case
                        when event_name = '{{ event_name }}' and occurred_at >= {{ as_of_window_start(days) }} then 1
                    end
                ) as {{ measure }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}
        max(occurred_at) as last_visit_at
    from events
    group by customer_key
),

session_counts as (
    select
        customer_key,
        {%- for days in windows %}
            count(case when started_at >= {{ as_of_window_start(days) }} then 1 end) as sessions_{{ days }}d,
            count(case when is_cart_abandoned and started_at >= {{ as_of_window_start(days) }} then 1 end)
                as cart_abandons_{{ days }}d,
        {%- endfor %}
        count(*) as sessions_count
    from sessions
    group by customer_key
),

final as (
    select
        event_counts.customer_key,
        event_counts.last_visit_at,
        {{ dbt.datediff('cast(event_counts.last_visit_at as date)', as_of_date_literal(), 'day') }}
            as days_since_last_visit,
        {%- for days in windows %}
            coalesce(session_counts.sessions_{{ days }}d, 0) as sessions_{{ days }}d,
            {%- for measure in event_measures.values() %}
                event_counts.{{ measure }}_{{ days }}d,
            {%- endfor %}
            coalesce(session_counts.cart_abandons_{{ days }}d, 0) as cart_abandons_{{ days }}d,
        {%- endfor %}
        coalesce(session_counts.sessions_count, 0) as sessions_count
    from event_counts
    left join session_counts on event_counts.customer_key = session_counts.customer_key
)

select * from final
