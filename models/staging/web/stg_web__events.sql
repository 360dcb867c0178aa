{#-
  Incremental (docs/scale.md): a daily run decides again only the raw rows whose
  event id occurs on or after the window start (base_web__events_in_window,
  macros/staging/web_events_window.sql) and replaces those rows; the rest of the table stays as it was. A full refresh
  gives the same table. base_web__events_quarantined holds the refused rows of
  the same window.
-#}
{%- set window_start = web_events_model_window() -%}
{{ config(
    materialized=('incremental' if target.type != 'spark' else 'table'),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_window(
        web_events_model_window(), 'event_date', 'event_id',
        web_events_window_keys(web_events_model_window())
    ) }}"
) }}
with

base as (
    -- depends_on: {{ ref('base_web__events') }}, {{ ref('base_web__events_in_window') }},
    -- {{ ref('base_web__events_window_keys') }}, {{ ref('base_web__event_times') }}
    select * from {{ ref('base_web__events_in_window' if window_start is not none else 'base_web__events') }}
    where quarantine_reason is null
),

event_types as (
    select
        lower(raw_event_name) as raw_event_name,
        event_type
    from {{ ref('web_event_types') }}
),

-- Trackers name events their own way (GA4 view_item, Segment "Product Viewed"): the seed maps
-- them to the types the rules read; a name it does not list is kept as written, lowercased.
typed as (
    select
        base.*,
        coalesce(event_types.event_type, lower(base.raw_event_name)) as event_type
    from base
    left join event_types on lower(base.raw_event_name) = event_types.raw_event_name
),

final as (
    select
        event_id,
        raw_anonymous_id as anonymous_id,
        raw_user_id as user_id,
        raw_user_id is not null as is_logged_in,
        event_type as event_name,
        raw_event_name as source_event_name,
        occurred_at,
        cast(occurred_at as date) as event_date,
        raw_page_url as page_url,
        -- Order confirmation pages name their order: the trace that ties a guest's cookie to the guest.
        case
            when raw_page_url like '%order_id=%'
                then {{ dbt.split_part(dbt.split_part('raw_page_url', "'order_id='", 2), "'&'", 1) }}
        end as order_id,
        raw_product_id as product_id,
        lower(raw_search_term) as search_term,
        raw_referrer as referrer,
        lower(raw_utm_source) as utm_source,
        lower(raw_utm_medium) as utm_medium,
        lower(raw_utm_campaign) as utm_campaign,
        lower(raw_device_type) as device_type,
        raw_os as os,
        raw_browser as browser,
        upper(raw_country) as country_code,
        raw_timezone as timezone
    from typed
)

-- Lean storage (docs/scale.md): the largest table, written by day and cookie so each stored block holds few
-- days and cookies and compresses them (a third smaller at 100k). A daily run sorts only its window.
select * from final
order by event_date, anonymous_id, occurred_at, event_id
