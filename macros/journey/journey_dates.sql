{#- A date plus a number of days (a column or a literal), as a date on every engine:
    dbt.dateadd returns a timestamp on some (DuckDB), a date on others. -#}
{% macro journey_add_days(date_expression, days_expression) -%}
    cast({{ dbt.dateadd('day', days_expression, date_expression) }} as date)
{%- endmacro %}
