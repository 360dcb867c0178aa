{#-
  The window of the two incremental web-event tables: stg_web__events (staged
  rows) and base_web__events_quarantined (refused rows). Both recompute the
  same window; it is resolved once per invocation, when stg_web__events runs
  first, before either table changes. docs/scale.md, "Incremental models".
-#}

{#- The window start ('YYYY-MM-DD'), or none when the tables are built whole
    (--full-refresh, or one of them does not exist yet). Besides the lookback and var backfill_from (incremental_window_start),
    it moves back to:
    - the first date whose raw rows outnumber or fall short of the rows stored
      for it, staged plus refused (raw rows counted through base_web__events,
      so rows of erased persons do not count): a late file dated before the
      lookback, or rows removed from a file, are found by counting; so are the
      stored rows of a person whose erasure was just requested, which the
      recomputed window then drops;
    - the beginning, when seeds/web_event_types.csv now maps a stored event's
      name differently. -#}
{% macro web_events_window_start() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set cache = graph.setdefault('customer_intelligence_web_events_window', {}) -%}
    {%- if invocation_id not in cache -%}
        {%- do cache.update({invocation_id: _web_events_window_start()}) -%}
    {%- endif -%}
    {{ return(cache[invocation_id]) }}
{%- endmacro %}


{% macro _web_events_window_start() -%}
    {%- set staged = adapter.get_relation(this.database, this.schema, 'stg_web__events') -%}
    {%- set refused = adapter.get_relation(this.database, this.schema, 'base_web__events_quarantined') -%}
    {%- if staged is none or refused is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set loaded = run_query(
        "select " ~ as_text("max(event_date)") ~ " from " ~ staged
    ).columns[0].values()[0] -%}
    {%- set remapped_query -%}
        select count(*)
        from (select distinct source_event_name, event_name from {{ staged }}) as loaded
        left join {{ ref('web_event_types') }} as event_types
            on lower(loaded.source_event_name) = lower(event_types.raw_event_name)
        where coalesce(event_types.event_type, lower(loaded.source_event_name)) != loaded.event_name
    {%- endset -%}
    {%- if loaded is not none and run_query(remapped_query).columns[0].values()[0] > 0 -%}
        {{ log("Recomputing all web events: seeds/web_event_types.csv maps a stored event differently.", info=true) }}
        {{ return('0001-01-01') }}
    {%- endif -%}
    {#- Raw rows are counted on base_web__event_times (ids and parsed times, the erasure filter
        applied), not through base_web__events: the staging decision (ranking the copies of every
        key) does not change how many rows a day has, and would cost a full decision. -#}
    {%- set unaccounted_query -%}
        with

        raw_days as (
            select cast(occurred_at as date) as event_date, count(*) as row_count
            from {{ ref('base_web__event_times') }}
            where occurred_at is not null and is_kept
            group by cast(occurred_at as date)
        ),

        stored_rows as (
            select event_date from {{ staged }}
            union all
            select cast(occurred_at as date) as event_date from {{ refused }}
            where occurred_at is not null
        ),

        stored_days as (
            select event_date, count(*) as row_count
            from stored_rows
            group by event_date
        )

        select {{ as_text('min(coalesce(raw_days.event_date, stored_days.event_date))') }}
        from raw_days
        full outer join stored_days on raw_days.event_date = stored_days.event_date
        where raw_days.row_count is null or stored_days.row_count is null or raw_days.row_count != stored_days.row_count
    {%- endset -%}
    {%- set unaccounted_from = run_query(unaccounted_query).columns[0].values()[0] -%}
    {{ return(incremental_window_start(loaded, unaccounted_from)) }}
{%- endmacro %}


{#- The raw event ids a run decides again (raw_keys_since); `undated` adds the
    ids of rows without a usable time, which only the refused table holds. Read
    from base_web__events_window_keys, which lists them once per run, when it was
    built in this invocation for this window; otherwise (that model not selected,
    or built for another window) from the raw files, as it would list them. -#}
{% macro web_events_window_keys(window_start, undated=false) -%}
    {%- if web_events_window_keys_are_current(window_start) -%}
        select raw_event_id
        from {{ ref('base_web__events_window_keys') }}
        where raw_event_id is not null{% if not undated %} and is_dated{% endif %}
    {%- else -%}
        {{ raw_keys_since('web', 'events', 'event_id', 'occurred_at', window_start, undated) }}
    {%- endif -%}
{%- endmacro %}


{#- Whether base_web__events_window_keys holds this invocation's keys for
    `window_start`: it records both on every row it writes, and a marker row
    (no event id) when the window has no keys. -#}
{% macro web_events_window_keys_are_current(window_start) -%}
    {%- if not execute or window_start is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set keys = ref('base_web__events_window_keys') -%}
    {%- if adapter.get_relation(keys.database, keys.schema, keys.identifier) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set current_query -%}
        select count(*)
        from (select window_start, invocation_id from {{ keys }} limit 1) as written
        where written.window_start = '{{ window_start }}' and written.invocation_id = '{{ invocation_id }}'
    {%- endset -%}
    {{ return(run_query(current_query).columns[0].values()[0] > 0) }}
{%- endmacro %}


{#- The window start of the calling incremental model: none when it is built
    whole; '0001-01-01' (everything again) when it exists but the window cannot
    be resolved (the other table is missing, e.g. after an upgrade). -#}
{% macro web_events_model_window() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(web_events_window_start() or '0001-01-01') }}
{%- endmacro %}
