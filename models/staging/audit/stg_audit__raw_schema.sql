{#-
  What the raw files actually contain, column by column and file by file,
  against the contract: 'expected' columns are used, 'unknown' ones are
  ignored (schema drift to look at), 'missing' ones fail the base models.
  Built from introspection when the model compiles, so it always describes
  the files this build read.
-#}
{%- set rows = [] -%}
{%- for raw in raw_tables() -%}
    {#- Declares the lineage at parse time; the files are read only when executing. -#}
    {%- set relation = source(raw.source, raw.table) -%}
    {%- if execute -%}
        {%- set required = raw_contract_columns(raw.source, raw.table) -%}
        {%- set required_lower = required | map('lower') | list -%}
        {%- for found in raw_file_columns(raw.source, raw.table) -%}
            {%- set present = found.columns | map('lower') | list -%}
            {%- for column_name in found.columns -%}
                {%- do rows.append([raw.source, raw.table, found.file, column_name,
                    'expected' if column_name | lower in required_lower else 'unknown']) -%}
            {%- endfor -%}
            {%- for column_name in required if column_name | lower not in present -%}
                {%- do rows.append([raw.source, raw.table, found.file, column_name, 'missing']) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{%- endfor %}

with

introspected as (
    {%- for row in rows %}
    select
        '{{ row[0] }}' as source_name,
        '{{ row[1] }}' as table_name,
        '{{ row[2] | replace("'", "''") }}' as file_path,
        '{{ row[3] | replace("'", "''") }}' as column_name,
        '{{ row[4] }}' as column_status
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_string() }}) as table_name,
        cast(null as {{ dbt.type_string() }}) as file_path,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as column_status
    where 1 = 0
    {%- endfor %}
)

select
    {{ dbt.concat(['file_path', "'#'", 'column_name']) }} as file_column_id,
    source_name,
    table_name,
    file_path,
    column_name,
    column_status
from introspected
