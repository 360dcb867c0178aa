{#- A date plus a number of days (a column or a literal), as a date on every engine:
    dbt.dateadd returns a timestamp on some (DuckDB), a date on others. -#}
{% macro journey_add_days(date_expression, days_expression) -%}
    cast({{ dbt.dateadd('day', days_expression, date_expression) }} as date)
{%- endmacro %}


{#- The date falls in the lifecycle spell (customer_lifecycle_history's
    valid_from inclusive, valid_to exclusive; an open spell has no end). -#}
{% macro journey_in_spell(date_expression, spells='spells') -%}
    {{ date_expression }} >= {{ spells }}.valid_from
    and ({{ spells }}.valid_to is null or {{ date_expression }} < {{ spells }}.valid_to)
{%- endmacro %}
