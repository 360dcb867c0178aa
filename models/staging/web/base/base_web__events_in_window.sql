{#-
  The raw rows of web.events that this run's incremental tables decide again,
  with their staging decision: every row whose event id occurs on or after the
  window start (macros/staging/web_events_window.sql), whatever the dates of
  its copies, and every row without an id. Restricting the raw rows before the
  decision ranks copies is what makes a daily run cost a day. Built whole (no
  window: the first build, --full-refresh), it holds every raw row.
-#}
{{ config(materialized='view') }}
-- The window's keys are listed by base_web__events_window_keys; resolved here when that model is
-- not selected: depends_on: {{ ref('web_event_types') }}, {{ ref('base_web__events_window_keys') }},
-- {{ ref('base_web__event_times') }}
{%- set window_start = web_events_window_start() -%}
{%- if window_start is none -%}
    {{ web_events_decision() }}
{%- else -%}
    {%- set event_id = raw_text(adapter.quote('event_id')) -%}
    {{ web_events_decision(
        '(' ~ event_id ~ ' is null or ' ~ event_id ~ ' in ('
        ~ web_events_window_keys(window_start, undated=true) ~ '))'
    ) }}
{%- endif %}
