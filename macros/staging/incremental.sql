{#-
  Daily runs (docs/scale.md, "Incremental models"). The tables where volume lives
  are incremental: a run recomputes only what one more day of data can have
  changed, and a full refresh (`--full-refresh`) gives the same table.

  Date-windowed tables (stg_web__events) recompute the rows dated on or after
  the window start: var('incremental_lookback_days') days before the earlier
  of the as-of date and the latest date already loaded. So a late file dated
  inside the lookback is picked up by the next run, a run after days without
  one catches up, and a rebuild as of an earlier date removes what is now after
  it. Counting finds a late file dated before the lookback (the window moves
  back to its first date); var('backfill_from') (a date) moves the start back
  for one run, for a file corrected in place.
-#}

{#- The first date an incremental run recomputes ('YYYY-MM-DD'), from the
    latest date already loaded (`loaded`, 'YYYY-MM-DD' or none for an empty
    table), the lookback, var backfill_from and `unaccounted_from`: the first
    date whose raw rows are not all stored (a late file dated before the
    lookback), or none. '0001-01-01' recomputes everything. -#}
{% macro incremental_window_start(loaded, unaccounted_from=none) -%}
    {%- set lookback_days = var('incremental_lookback_days', 3) -%}
    {%- if lookback_days is not integer or lookback_days < 0 -%}
        {{ exceptions.raise_compiler_error(
            "var incremental_lookback_days must be a whole number of days >= 0, got " ~ lookback_days
        ) }}
    {%- endif -%}
    {%- if loaded is none -%}
        {{ return('0001-01-01') }}
    {%- endif -%}
    {%- set parse = modules.datetime.datetime.strptime -%}
    {%- set latest = [as_of_date(), (loaded | string)[:10]] | min -%}
    {%- set start = parse(latest, '%Y-%m-%d') - modules.datetime.timedelta(days=lookback_days) -%}
    {%- if unaccounted_from is not none -%}
        {%- set start = [start, parse((unaccounted_from | string)[:10], '%Y-%m-%d')] | min -%}
    {%- endif -%}
    {%- set backfill_from = var('backfill_from', none) -%}
    {%- if backfill_from is not none and backfill_from | string | length > 0 -%}
        {%- set backfill_text = backfill_from | string -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', backfill_text) -%}
            {{ exceptions.raise_compiler_error(
                "var backfill_from must be a date (YYYY-MM-DD), got '" ~ backfill_text ~ "'"
            ) }}
        {%- endif -%}
        {%- set start = [start, parse(backfill_text, '%Y-%m-%d')] | min -%}
    {%- endif -%}
    {{ return(start.strftime('%Y-%m-%d')) }}
{%- endmacro %}


{#- The keys of a raw table's rows dated on or after `start_date` (by the raw
    timestamp, parsed as staging parses it): the rows an incremental run
    decides again. Every raw row with one of these keys is decided again too,
    so a key whose copies straddle the window start gets the same winner as a
    full build would give it. `undated`: also the keys of rows without a
    usable timestamp, which no window holds. -#}
{% macro raw_keys_since(source_name, table_name, key_column, timestamp_column, start_date, undated=false) -%}
    {%- set parsed = parse_timestamp_utc(raw_text(adapter.quote(timestamp_column))) -%}
    select {{ raw_text(adapter.quote(key_column)) }}
    from {{ raw_source(source_name, table_name) }}
    where
        {% if undated -%}
        coalesce({{ parsed }} >= cast('{{ start_date }}' as {{ dbt.type_timestamp() }}), true)
        {%- else -%}
        {{ parsed }} >= cast('{{ start_date }}' as {{ dbt.type_timestamp() }})
        {%- endif %}
        and {{ raw_text(adapter.quote(key_column)) }} is not null
{%- endmacro %}


{#- The pre-hook of a date-windowed incremental model: before the window is
    inserted again, delete its rows (by date, and by key for a key decided
    again). Renders nothing when the model is built whole. -#}
{% macro delete_incremental_window(window_start, date_column, key_column, window_keys_sql) -%}
    {%- if window_start is not none -%}
        delete from {{ this }}
        where
            {{ date_column }} >= cast('{{ window_start }}' as date)
            or {{ key_column }} in ({{ window_keys_sql }})
    {%- endif -%}
{%- endmacro %}


{#- One event's share of a checksum: a number from its values, summed per
    customer to tell whether the events behind stored rows have changed. -#}
{% macro checksum_term(expression) -%}
    {{ return(adapter.dispatch('checksum_term', 'customer_intelligence')(expression)) }}
{%- endmacro %}

{% macro default__checksum_term(expression) -%}
    cast(pmod(hash({{ expression }}), 2147483647) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro duckdb__checksum_term(expression) -%}
    cast(hash({{ expression }}) % 2147483647 as {{ dbt.type_bigint() }})
{%- endmacro %}


{#- int_customer__web_sessions: an event's checksum term, over what
    sessionisation reads (and the gap rule, so a changed gap recomputes all). -#}
{% macro web_session_event_checksum() -%}
    {{ checksum_term(dbt.concat([
        'event_id', "'|'", 'event_name', "'|'", as_text('occurred_at'),
        "'|" ~ var('session_gap_minutes', 30) ~ "'"
    ])) }}
{%- endmacro %}


{#- The customers whose stored sessions no longer match their events: event
    counts or checksums differ, or one side has none. Read by the model's
    pre-hook (delete) and by the model (insert): after the delete, the same
    query finds the same customers, now without stored sessions. -#}
{% macro web_session_customers_to_recompute() -%}
    select coalesce(current_events.customer_key, stored.customer_key)
    from (
        select
            customer_key,
            count(*) as events_count,
            sum({{ web_session_event_checksum() }}) as events_checksum
        from {{ ref('int_customer__web_events') }}
        group by customer_key
    ) as current_events
    full outer join (
        select
            customer_key,
            sum(events_count) as events_count,
            sum(events_checksum) as events_checksum
        from {{ this }}
        group by customer_key
    ) as stored
        on current_events.customer_key = stored.customer_key
    where
        current_events.customer_key is null
        or stored.customer_key is null
        or current_events.events_count != stored.events_count
        or current_events.events_checksum != stored.events_checksum
{%- endmacro %}
