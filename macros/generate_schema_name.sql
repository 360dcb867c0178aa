{#- Layer schemas keep their plain names (staging, customer_360, marts...)
    instead of dbt's default "<target schema>_<custom schema>", so BI tools
    and reverse-ETL jobs read stable names whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
