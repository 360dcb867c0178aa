{#-
  Every raw web event's id and parsed time, without the rows of persons who
  asked to be erased: what the incremental window counts per day and lists its
  keys from (macros/staging/web_events_window.sql). A view, so the erasure
  scope (an ephemeral model) is compiled into it and the window's queries,
  which run outside any model, can read it; it stores nothing.
-#}
{{ config(materialized='view') }}
with

raw_rows as (
    select
        {{ raw_text(adapter.quote('event_id')) }} as raw_event_id,
        {{ parse_timestamp_utc(raw_text(adapter.quote('occurred_at'))) }} as occurred_at
    from {{ raw_source('web', 'events') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('web.events') }}
)

select * from raw_rows
