{#-
  The staging decision for raw web.events, shared by two views: base_web__events
  (every raw row) and base_web__events_in_window (the rows an incremental run
  decides again). `raw_filter` is a condition on the raw columns, applied before
  the decision ranks copies of a key, so a window costs what its rows cost.
-#}
{% macro web_events_decision(raw_filter='1 = 1') -%}
{%- set raw_columns = [
    'event_id', 'anonymous_id', 'user_id', 'event_name', 'occurred_at', 'page_url', 'product_id',
    'search_term', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign', 'device_type', 'os',
    'browser', 'country', 'timezone'
] -%}
{{ assert_raw_contract('web', 'events') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('web', 'events') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('web.events') }} and {{ raw_filter }}
),

parsed as (
    select
        *,
        raw_event_id as event_id,
        {{ parse_timestamp_utc('raw_occurred_at') }} as occurred_at,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['event_id']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when event_id is null then 'null_key:event_id'
            when raw_event_name is null then 'missing_value:event_name'
            when raw_occurred_at is null then 'missing_value:occurred_at'
            when occurred_at is null then 'unparseable_value:occurred_at'
            when occurred_at >= {{ as_of_upper_bound() }} then 'after_as_of:occurred_at'
            -- An event nobody can be tied to, not even a cookie, serves no customer view.
            when raw_anonymous_id is null and raw_user_id is null then 'missing_value:anonymous_id'
        end as row_problem
    from parsed
),

{{ decide_quarantine(['event_id']) }}
{%- endmacro %}
