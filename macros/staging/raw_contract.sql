{#- The raw tables staging reads, with the staging model that holds their
    clean rows; the reconciliation and schema audits loop over this list. -#}
{% macro raw_tables() -%}
    {{ return([
        {'source': 'shop', 'table': 'customers', 'staging_model': 'stg_shop__customers'},
        {'source': 'shop', 'table': 'products', 'staging_model': 'stg_shop__products'},
        {'source': 'shop', 'table': 'orders', 'staging_model': 'stg_shop__orders'},
        {'source': 'shop', 'table': 'order_lines', 'staging_model': 'stg_shop__order_lines'},
        {'source': 'shop', 'table': 'returns', 'staging_model': 'stg_shop__returns'},
        {'source': 'web', 'table': 'events', 'staging_model': 'stg_web__events'},
        {'source': 'crm', 'table': 'consents', 'staging_model': 'stg_crm__consents'},
        {'source': 'crm', 'table': 'loyalty_members', 'staging_model': 'stg_crm__loyalty_members'},
        {'source': 'crm', 'table': 'service_cases', 'staging_model': 'stg_crm__service_cases'},
        {'source': 'crm', 'table': 'surveys', 'staging_model': 'stg_crm__surveys'},
        {'source': 'marketing', 'table': 'communications', 'staging_model': 'stg_marketing__communications'},
        {'source': 'marketing', 'table': 'assignments', 'staging_model': 'stg_marketing__assignments'},
    ]) }}
{%- endmacro %}


{#- The columns the contract requires: every column documented on the source
    table in its _<source>__sources.yml. -#}
{% macro raw_contract_columns(source_name, table_name) -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {{ return(node.columns.keys() | list) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("Source " ~ source_name ~ "." ~ table_name ~ " is not declared") }}
{%- endmacro %}


{#- The columns actually present, per file: [{'file': ..., 'columns': [...]}].
    Files are what users get wrong (one export without a column), so the
    check names the file, not just the table. -#}
{% macro raw_file_columns(source_name, table_name) -%}
    {{ return(adapter.dispatch('raw_file_columns', 'customer_intelligence')(source_name, table_name)) }}
{%- endmacro %}

{#- Sources that are warehouse tables: one "file", the table itself. -#}
{% macro default__raw_file_columns(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {{ return([{'file': relation | string, 'columns': columns | map(attribute='name') | list}]) }}
{%- endmacro %}

{#- dbt-duckdb sources read files through a table function such as
    read_parquet('<glob>', ...): list the files behind the glob and describe
    each one with the same reader options. -#}
{% macro duckdb__raw_file_columns(source_name, table_name) -%}
    {%- set rendered = source(source_name, table_name) | string -%}
    {%- set pattern_match = modules.re.search("^[ ]*[A-Za-z_]+[(][ ]*'([^']+)'", rendered) -%}
    {%- if pattern_match is none -%}
        {{ return(default__raw_file_columns(source_name, table_name)) }}
    {%- endif -%}
    {%- set pattern = pattern_match.group(1) -%}
    {%- set files = run_query("select file from glob('" ~ pattern ~ "') order by file").columns[0].values() -%}
    {%- if files | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Raw data missing: no files match '" ~ pattern ~ "' for source " ~ source_name ~ "." ~ table_name
            ~ ". Generate sample data (make data) or point var raw_data_path / env CIW_RAW_DATA_PATH at your files."
        ) }}
    {%- endif -%}
    {%- set results = [] -%}
    {%- for file in files -%}
        {%- set reader = rendered.replace("'" ~ pattern ~ "'", "'" ~ file ~ "'") -%}
        {%- set described = run_query("describe select * from " ~ reader) -%}
        {%- do results.append({'file': file, 'columns': described.columns[0].values() | list}) -%}
    {%- endfor -%}
    {{ return(results) }}
{%- endmacro %}


{#- Fail the build, naming file and column, when a raw file lacks a column of
    the contract; report (but ignore) columns the contract does not know. -#}
{% macro assert_raw_contract(source_name, table_name) -%}
    {#- Unit tests replace the source with fixture rows: there is no file to check. -#}
    {%- if execute and graph.get('sources') is not none -%}
        {%- set required = raw_contract_columns(source_name, table_name) -%}
        {%- for found in raw_file_columns(source_name, table_name) -%}
            {%- set present = found.columns | map('lower') | list -%}
            {%- set missing = [] -%}
            {%- for column_name in required if column_name | lower not in present -%}
                {%- do missing.append(column_name) -%}
            {%- endfor -%}
            {%- if missing | length > 0 -%}
                {{ exceptions.raise_compiler_error(
                    "Raw data contract violated: file '" ~ found.file ~ "' (source " ~ source_name ~ "."
                    ~ table_name ~ ") is missing required column(s): " ~ missing | join(', ')
                    ~ ". Add the column (values may be empty) or fix the export; the contract is in "
                    ~ "models/staging/" ~ source_name ~ "/_" ~ source_name ~ "__sources.yml."
                ) }}
            {%- endif -%}
            {%- set required_lower = required | map('lower') | list -%}
            {%- set unknown = [] -%}
            {%- for column_name in found.columns if column_name | lower not in required_lower -%}
                {%- do unknown.append(column_name) -%}
            {%- endfor -%}
            {%- if unknown | length > 0 -%}
                {{ log("Raw data contract: file '" ~ found.file ~ "' (source " ~ source_name ~ "." ~ table_name
                    ~ ") has unknown column(s) " ~ unknown | join(', ')
                    ~ "; they are ignored and listed in stg_audit__raw_schema.", info=true) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
