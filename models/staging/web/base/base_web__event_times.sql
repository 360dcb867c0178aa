{#-
  Every raw web event's id and parsed time, and whether staging keeps it
  (is_kept false: a row of a person who asked to be erased): what the
  incremental window counts per day (kept rows) and lists its keys from (all
  rows, so the stored copies of an erased person's rows are deleted too);
  macros/staging/web_events_window.sql. A view, so the erasure scope (an
  ephemeral model) is compiled into it and the window's queries, which run
  outside any model, can read it; it stores nothing.
-#}
{{ config(materialized='view') }}
with

raw_rows as (
    select
        {{ raw_text(adapter.quote('event_id')) }} as raw_event_id,
        {{ parse_timestamp_utc(raw_text(adapter.quote('occurred_at'))) }} as occurred_at,
        -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
        ({{ erasure_keeps_raw('web.events') }}) as is_kept
    from {{ raw_source('web', 'events') }}
)

select * from raw_rows
