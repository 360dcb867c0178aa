{#-
  The build is computed as of one date so a past state can be rebuilt exactly.
  var('as_of') wins when set. Otherwise the as-of date is the date of the
  latest order whose timestamp is not in the future of the machine's clock:
  impossible future timestamps in raw data must not move the as-of date.
-#}
{% macro as_of_date() -%}
    {%- set configured = var('as_of', none) -%}
    {%- if configured is not none and configured | string | length > 0 -%}
        {{ return(configured | string) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return('2000-01-01') }}
    {%- endif -%}
    {%- set latest_query -%}
        with parsed as (
            select {{ parse_timestamp_utc(as_text('ordered_at')) }} as ordered_at
            from {{ raw_source('shop', 'orders') }}
        )
        select {{ as_text('max(cast(ordered_at as date))') }}
        from parsed
        where ordered_at <= {{ dbt.current_timestamp() }}
    {%- endset -%}
    {%- set latest = run_query(latest_query).columns[0].values()[0] -%}
    {%- if latest is none -%}
        {{ exceptions.raise_compiler_error(
            "Cannot infer the as-of date: shop.orders has no parseable ordered_at. "
            ~ "Set it explicitly with --vars '{as_of: YYYY-MM-DD}'."
        ) }}
    {%- endif -%}
    {{ return(latest | string) }}
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
