{#-
  The build is computed as of one date so a past state can be rebuilt exactly.
  var('as_of') wins when set. Otherwise the as-of date is the date of the
  latest order whose timestamp is not in the future of the machine's clock:
  impossible future timestamps in raw data must not move the as-of date.
  audit.audit__as_of shows the date a build used and where it came from.
-#}
{% macro as_of_date() -%}
    {%- if as_of_is_configured() -%}
        {{ return(var('as_of') | string) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return('2000-01-01') }}
    {%- endif -%}
    {#-
      Resolved once per dbt invocation, not once per call: some 70 call sites in
      40-odd models ask for it, and each would otherwise query the raw orders
      while compiling. The date is kept in `graph`, the one dict every node of an
      invocation shares (dbt builds it once per invocation, and its nodes see the
      same object), under this invocation's id so that a manifest reused by a
      later programmatic invocation never hands it an old date. The
      on-run-start hook (resolve_as_of) fills it before any node runs, so the
      nodes that compile in parallel find it there.
    -#}
    {%- set resolved = graph.setdefault('customer_intelligence_as_of', {}) -%}
    {%- if invocation_id not in resolved -%}
        {%- do resolved.update({invocation_id: latest_order_date()}) -%}
    {%- endif -%}
    {{ return(resolved[invocation_id]) }}
{%- endmacro %}


{% macro as_of_is_configured() -%}
    {%- set configured = var('as_of', none) -%}
    {{ return(configured is not none and configured | string | length > 0) }}
{%- endmacro %}


{#- The raw query behind the default as-of date: timestamps parsed exactly as
    staging parses them (base_shop__orders_parsed), so the date matches the
    orders staging keeps. -#}
{% macro latest_order_date() -%}
    {%- set latest_query -%}
        with parsed as (
            select {{ parse_timestamp_utc(raw_text('ordered_at')) }} as ordered_at
            from {{ raw_source('shop', 'orders') }}
        )
        select {{ as_text('max(cast(ordered_at as date))') }}
        from parsed
        where ordered_at <= {{ dbt.current_timestamp() }}
    {%- endset -%}
    {{ log("Resolving the as-of date from the latest raw order (once per invocation).") }}
    {%- set latest = run_query(latest_query).columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ exceptions.raise_compiler_error(
            "Cannot infer the as-of date: shop.orders has no parseable ordered_at. "
            ~ "Set it explicitly with --vars '{as_of: YYYY-MM-DD}'."
        ) }}
    {%- endif -%}
    {{ return(latest | string) }}
{%- endmacro %}


{#- on-run-start hook (dbt_project.yml): resolves the as-of date before any node
    runs, in one thread, so that models compiling in parallel do not each query
    the raw orders. Renders no SQL. Nothing to resolve when var as_of is set, for
    commands that build nothing dated (seed), or before there are orders (a
    build then fails in the first model that needs the date, naming the cause). -#}
{% macro resolve_as_of() -%}
    {%- if execute and flags.WHICH in ['build', 'run', 'test', 'snapshot'] and not as_of_is_configured()
        and raw_table_is_provided('shop', 'orders') -%}
        {%- do as_of_date() -%}
    {%- endif -%}
{%- endmacro %}


{#- Exclusive upper bound: everything strictly before the day after as_of. -#}
{% macro as_of_upper_bound() -%}
    {%- set day_after = modules.datetime.datetime.strptime(as_of_date(), '%Y-%m-%d')
        + modules.datetime.timedelta(days=1) -%}
    cast('{{ day_after.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{% macro as_of_date_literal() -%}
    cast('{{ as_of_date() }}' as date)
{%- endmacro %}
