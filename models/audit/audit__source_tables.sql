{#-
  Which raw tables this build was given, and how many rows each holds. Few
  companies have every source: a table that is not provided stages as an empty
  relation, its features are null, and its volume and shape checks report
  "not provided". Built from introspection when the model compiles; with
  audit__raw_schema, the one audit model that reads the sources themselves
  (audit__row_reconciliation takes its raw row counts from here).
-#}
{%- set rows = [] -%}
{%- for raw in raw_tables() -%}
    {#- Declares the lineage at parse time; the files are looked at only when executing. -#}
    {%- set relation = source(raw.source, raw.table) -%}
    {%- if execute -%}
        {%- set qualified = raw.source ~ '.' ~ raw.table -%}
        {%- set files = raw_file_columns(raw.source, raw.table) -%}
        {%- do rows.append([
            raw.source, raw.table, raw.staging_model, qualified in raw_core_tables(),
            files | length > 0, files | length
        ]) -%}
    {%- endif -%}
{%- endfor %}

with

introspected as (
    {%- for row in rows %}
    select
        '{{ row[0] }}' as source_name,
        '{{ row[1] }}' as table_name,
        '{{ row[2] }}' as staging_model,
        {{ row[3] }} as is_core,
        {{ row[4] }} as is_provided,
        {{ row[5] }} as files_count
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_string() }}) as table_name,
        cast(null as {{ dbt.type_string() }}) as staging_model,
        false as is_core,
        false as is_provided,
        0 as files_count
    where 1 = 0
    {%- endfor %}
),

-- Counted from the raw files themselves (0 for a table not provided), not from
-- staging, so that the reconciliation compares staging against the raw data.
raw_counts as (
    {%- for raw in raw_tables() %}
        select
            '{{ raw.source }}' as source_name,
            '{{ raw.table }}' as table_name,
            (select count(*) from {{ raw_source(raw.source, raw.table) }}) as raw_rows
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ dbt.concat(['introspected.source_name', "'.'", 'introspected.table_name']) }} as raw_table,
        introspected.source_name,
        introspected.table_name,
        introspected.staging_model,
        introspected.is_core,
        introspected.is_provided,
        introspected.files_count,
        raw_counts.raw_rows
    from introspected
    left join raw_counts
        on introspected.source_name = raw_counts.source_name
        and introspected.table_name = raw_counts.table_name
)

select * from final
