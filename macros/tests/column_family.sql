{#- Rows where a column of a family (the columns named <prefix>...<suffix>,
    found in the built relation) lies outside [min_value, max_value] or, with
    not_null, is null. For columns that come from the data's own vocabulary
    (one category_share_<category> per category a shop sells): they cannot be
    listed in YAML one by one, but each is tested. -#}
{% test column_family_values(model, column_prefix, column_suffix='', min_value=none, max_value=none, not_null=false) %}
{%- set family = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- set name = column.name | lower -%}
        {%- if name.startswith(column_prefix) and name.endswith(column_suffix) -%}
            {%- do family.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- if family | length == 0 %}
select cast(null as {{ dbt.type_string() }}) as column_name where 1 = 0
{%- else %}
{%- for column_name in family %}
select '{{ column_name }}' as column_name
from {{ model }}
where
    {% if not_null %}{{ column_name }} is null or {% endif %}false
    {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
    {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- endif %}
{% endtest %}
