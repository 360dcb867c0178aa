{#-
  The raw event ids this run's incremental web-event tables decide again
  (macros/staging/web_events_window.sql): every id with a raw row dated on or
  after the window start, and (is_dated false) every id with a row without a
  usable time. Listed once per run, so base_web__events_in_window and the
  deletes of stg_web__events and base_web__events_quarantined read a small
  table instead of parsing every raw timestamp again. Every row records the
  window and the dbt invocation it was listed for: a reader whose window or
  invocation differs (this model not selected) lists the keys from the raw
  files itself. Without a window (the first build, --full-refresh) it holds
  only its marker row.
-#}
{{ config(materialized='table') }}
-- The window is resolved from the raw rows' times and the event-type seed, before either
-- incremental table changes: depends_on: {{ ref('web_event_types') }}
{%- set window_start = web_events_window_start() %}

with

raw_rows as (
    select
        raw_event_id,
        occurred_at
    from {{ ref('base_web__event_times') }}
    -- Built whole (no window): every row is decided, none is listed.
    where {{ 'true' if window_start is not none else 'false' }}
),

window_keys as (
    select
        raw_event_id,
        max(case when occurred_at is not null then 1 else 0 end) = 1 as is_dated
    from raw_rows
    where
        raw_event_id is not null
        -- One comparison, not "or occurred_at is null": the parse is what this model costs.
        and coalesce(occurred_at >= cast('{{ window_start or "0001-01-01" }}' as {{ dbt.type_timestamp() }}), true)
    group by raw_event_id
),

-- One row without an id records the window even when it has no keys.
marked as (
    select
        raw_event_id,
        is_dated
    from window_keys
    union all
    select
        cast(null as {{ dbt.type_string() }}) as raw_event_id,
        false as is_dated
),

final as (
    select
        raw_event_id,
        is_dated,
        cast({{ dbt.string_literal(window_start) if window_start is not none else 'null' }} as {{ dbt.type_string() }})
            as window_start,
        {{ dbt.string_literal(invocation_id) }} as invocation_id
    from marked
)

select * from final
