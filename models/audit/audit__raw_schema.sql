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
                    'expected' if column_name | lower in required_lower else 'unknown', found.types[loop.index0]]) -%}
            {%- endfor -%}
            {%- for column_name in required if column_name | lower not in present -%}
                {%- do rows.append([raw.source, raw.table, found.file, column_name, 'missing', none]) -%}
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
        '{{ row[4] }}' as column_status,
        {% if row[5] is none %}cast(null as {{ dbt.type_string() }}){% else %}'{{ row[5] | replace("'", "''") }}'{% endif %}
            as physical_type
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_string() }}) as table_name,
        cast(null as {{ dbt.type_string() }}) as file_path,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as column_status,
        cast(null as {{ dbt.type_string() }}) as physical_type
    where 1 = 0
    {%- endfor %}
),

-- Every value is read as text, so an id typed as an integer in one file and as
-- text in another is not cast to a number; the conflict is flagged because the
-- integer file may already have lost leading zeros when it was written.
type_counts as (
    select
        source_name,
        table_name,
        lower(column_name) as column_key,
        count(distinct physical_type) as physical_types_count
    from introspected
    where physical_type is not null
    group by source_name, table_name, lower(column_name)
),

final as (
    select
        {{ dbt.concat(['introspected.file_path', "'#'", 'introspected.column_name']) }} as file_column_id,
        introspected.source_name,
        introspected.table_name,
        introspected.file_path,
        introspected.column_name,
        introspected.column_status,
        introspected.physical_type,
        coalesce(type_counts.physical_types_count, 0) > 1 as has_type_conflict
    from introspected
    left join type_counts
        on introspected.source_name = type_counts.source_name
        and introspected.table_name = type_counts.table_name
        and lower(introspected.column_name) = type_counts.column_key
)

select * from final
