{#-
  A session is a run of one person's events (all their cookies and logins,
  so a visit that moves from phone to laptop stays one session) in which each
  event follows the previous one by less than var('session_gap_minutes', 30)
  minutes; a gap of that length or more starts a new session.

  Incremental (docs/scale.md): each session stores a checksum of its events (id,
  name, time and the gap rule). A run recomputes every session of the customers
  whose events no longer add up to the stored checksums: new or late events,
  events moved to another key by identity resolution, erased persons, a changed
  gap. The others keep their rows. A full refresh gives the same table.

  Lean storage (docs/scale.md): no stored session id (its readers join
  customer_key and session_number, a third of this table's bytes when stored), and the rows
  are written in customer_key order, so each stored block repeats few keys and
  compresses them (a new run's rows are ordered among themselves).
-#}
{%- set session_gap_minutes = var('session_gap_minutes', 30) -%}
{{ config(
    materialized=('incremental' if target.type != 'spark' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where customer_key in ({{ web_session_customers_to_recompute() }}){% endif %}"
) }}
with

events as (
    select
        customer_key,
        event_id,
        event_name,
        occurred_at,
        {{ web_session_event_checksum() }} as event_checksum
    from {{ ref('int_customer__web_events') }}
    {%- if is_incremental() %}
        where customer_key in ({{ web_session_customers_to_recompute() }})
    {%- endif %}
),

with_previous as (
    select
        *,
        lag(occurred_at) over (partition by customer_key order by occurred_at, event_id) as previous_occurred_at
    from events
),

flagged as (
    select
        *,
        case
            when previous_occurred_at is null then 1
            when occurred_at >= {{ dbt.dateadd('minute', session_gap_minutes, 'previous_occurred_at') }} then 1
            else 0
        end as is_session_start
    from with_previous
),

numbered as (
    select
        *,
        cast(sum(is_session_start) over (
            partition by customer_key
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as session_number
    from flagged
),

sessions as (
    select
        customer_key,
        session_number,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as events_count,
        count(case when event_name = 'product_view' then 1 end) as product_views_count,
        count(case when event_name = 'search' then 1 end) as searches_count,
        count(case when event_name = 'add_to_cart' then 1 end) as cart_adds_count,
        count(case when event_name = 'purchase' then 1 end) as purchases_count,
        sum(event_checksum) as events_checksum
    from numbered
    group by customer_key, session_number
),

final as (
    select
        customer_key,
        session_number,
        started_at,
        ended_at,
        events_count,
        product_views_count,
        searches_count,
        cart_adds_count,
        purchases_count,
        cart_adds_count > 0 and purchases_count = 0 as is_cart_abandoned,
        events_checksum
    from sessions
)

select * from final
order by customer_key, session_number
