{#-
  Where the person came from: the campaign tags of the first and of the
  latest event that carried a utm_source (first touch and last touch).
-#}
with

tagged_events as (
    select * from {{ ref('int_customer__web_events') }}
    where utm_source is not null
),

ranked_touches as (
    select
        customer_key,
        occurred_at,
        utm_source,
        utm_medium,
        utm_campaign,
        row_number() over (partition by customer_key order by occurred_at, event_id) as first_rank,
        row_number() over (partition by customer_key order by occurred_at desc, event_id desc) as last_rank,
        count(*) over (partition by customer_key) as tagged_events_count
    from tagged_events
),

first_touches as (
    select * from ranked_touches
    where first_rank = 1
),

last_touches as (
    select * from ranked_touches
    where last_rank = 1
),

final as (
    select
        first_touches.customer_key,
        first_touches.tagged_events_count,
        first_touches.occurred_at as first_touch_at,
        first_touches.utm_source as first_touch_utm_source,
        first_touches.utm_medium as first_touch_utm_medium,
        first_touches.utm_campaign as first_touch_utm_campaign,
        last_touches.occurred_at as last_touch_at,
        last_touches.utm_source as last_touch_utm_source,
        last_touches.utm_medium as last_touch_utm_medium,
        last_touches.utm_campaign as last_touch_utm_campaign
    from first_touches
    inner join last_touches on first_touches.customer_key = last_touches.customer_key
)

select * from final
