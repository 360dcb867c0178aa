{#-
  The raw rows of web.events that staging refused, with their raw text: what
  audit.audit__quarantine shows for web events. A table, incremental on the same
  window as stg_web__events (macros/staging/incremental.sql), so a daily run
  decides again only the rows of the window instead of every raw event; the
  raw text of a row is stored only here, when it is refused (docs/scale.md).
  Rows without a usable time or id are decided again on every run: no window
  holds them.
-#}
{%- set window_start = web_events_model_window() -%}
{{ config(
    materialized=('incremental' if target.type != 'spark' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_window(
        web_events_model_window(), 'cast(occurred_at as date)', 'raw_key',
        web_events_window_keys(web_events_model_window(), undated=true)
            ~ ' union all select ' ~ dbt.string_literal('<null>')
    ) }}"
) }}
-- The window is resolved when stg_web__events runs, before either table changes.
-- depends_on: {{ ref('stg_web__events') }}, {{ ref('web_event_types') }}
with

decided as (
    -- depends_on: {{ ref('base_web__events') }}, {{ ref('base_web__events_in_window') }},
    -- {{ ref('base_web__events_window_keys') }}, {{ ref('base_web__event_times') }}
    select * from {{ ref('base_web__events_in_window' if window_start is not none else 'base_web__events') }}
    where quarantine_reason is not null
),

final as (
    select
        raw_key,
        event_id,
        occurred_at,
        quarantine_reason,
        quarantine_detail,
        raw_event_id,
        raw_anonymous_id,
        raw_user_id,
        raw_event_name,
        raw_occurred_at,
        raw_page_url,
        raw_product_id,
        raw_search_term,
        raw_referrer,
        raw_utm_source,
        raw_utm_medium,
        raw_utm_campaign,
        raw_device_type,
        raw_os,
        raw_browser,
        raw_country,
        raw_timezone
    from decided
)

select * from final
