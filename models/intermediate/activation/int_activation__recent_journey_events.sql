-- The journey events a rule may react to: one row per customer and event type
-- that happened within the lookback window ending on the as-of date.
with

journey_events as (
    select
        customer_key,
        event_type,
        occurred_at
    from {{ ref('journey_events') }}
    where
        occurred_at >= {{ as_of_window_start(var('activation_journey_event_lookback_days')) }}
        and occurred_at < {{ as_of_upper_bound() }}
),

final as (
    select
        customer_key,
        event_type,
        max(occurred_at) as last_event_at
    from journey_events
    group by customer_key, event_type
)

select * from final
