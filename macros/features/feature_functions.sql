{#- Portable expressions the feature families share. -#}

{#- numerator / denominator as a float; null when the denominator is 0 or null. -#}
{% macro safe_ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ dbt.type_float() }})
    / nullif(cast({{ denominator }} as {{ dbt.type_float() }}), 0)
{%- endmacro %}


{#- Whole years between a birth date and a date: the year difference, less one
    when the birthday has not come yet that year (a 29 February birthday
    comes on 28 February in other years). -#}
{% macro age_in_years(birth_date, at_date) -%}
    (
        {{ dbt.datediff(birth_date, at_date, 'year') }}
        - case
            when {{ dbt.dateadd('year', dbt.datediff(birth_date, at_date, 'year'), birth_date) }} > {{ at_date }}
                then 1
            else 0
        end
    )
{%- endmacro %}


{#- ISO weekday, 1 = Monday .. 7 = Sunday, counted from Monday 1900-01-01 so
    it does not depend on an engine's week-start setting. -#}
{% macro iso_weekday(date_expression) -%}
    (mod({{ dbt.datediff("cast('1900-01-01' as date)", date_expression, 'day') }}, 7) + 1)
{%- endmacro %}


{#- Start of the window of the given number of days ending on the as-of date
    (inclusive): rows at or after it, and before as_of_upper_bound(), are in. -#}
{% macro as_of_window_start(days) -%}
    {{ dbt.dateadd('day', -1 * days, as_of_upper_bound()) }}
{%- endmacro %}


{#- A count from an optional source: 0 for a person without such activity when the
    source was provided, null when it was not (a shop without web tracking knows
    nothing of its customers' sessions; zero would claim they had none). -#}
{% macro count_if_provided(expression, raw_table) -%}
    {%- set parts = raw_table.split('.') -%}
    {%- if raw_table_is_provided(parts[0], parts[1]) -%}
        coalesce({{ expression }}, 0)
    {%- else -%}
        {{ expression }}
    {%- endif -%}
{%- endmacro %}
