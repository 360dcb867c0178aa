{#-
  on-run-end hook (dbt_project.yml): drop the temporary relations dbt-duckdb leaves behind.
  An incremental dbt Python model (clv_model_fit, needs_segment_fit_history) writes its new
  rows to a regular table '<model>__dbt_tmp<timestamp>' in the default schema (main), which
  the materialization never drops; a run that fails midway can leave '<model>__dbt_tmp' or
  '<model>__dbt_backup' relations of any model. Two builds of the same data must leave the
  same relations, so every relation named that way after one of this project's models is
  dropped at the end of each invocation. Relations of other names are never touched.
-#}
{% macro drop_temporary_relations() -%}
    {{ return(adapter.dispatch('drop_temporary_relations', 'customer_intelligence')()) }}
{%- endmacro %}

{#- Elsewhere dbt's temporary relations are session-scoped: nothing to clean. -#}
{% macro default__drop_temporary_relations() -%}
{%- endmacro %}

{% macro duckdb__drop_temporary_relations() -%}
    {%- if execute -%}
        {%- set model_names = [] -%}
        {%- for node in graph.nodes.values() if node.resource_type in ('model', 'snapshot', 'seed') -%}
            {%- do model_names.append((node.alias or node.name) | lower) -%}
        {%- endfor -%}
        {%- set leftovers_query -%}
            select schema_name, table_name, 'table' as relation_type
            from duckdb_tables()
            where database_name = current_database() and not temporary
                and regexp_matches(table_name, '__dbt_(tmp|backup)')
            union all
            select schema_name, view_name, 'view'
            from duckdb_views()
            where database_name = current_database() and not temporary and not internal
                and regexp_matches(view_name, '__dbt_(tmp|backup)')
        {%- endset -%}
        {%- set statements = [] -%}
        {%- for row in run_query(leftovers_query).rows -%}
            {%- set made_for = modules.re.split('__dbt_(?:tmp|backup)', row[1])[0] | lower -%}
            {%- if made_for in model_names -%}
                {%- do statements.append(
                    'drop ' ~ row[2] ~ ' if exists ' ~ adapter.quote(row[0]) ~ '.' ~ adapter.quote(row[1])
                ) -%}
            {%- endif -%}
        {%- endfor -%}
        {{ statements | join(';\n') }}
    {%- endif -%}
{%- endmacro %}
