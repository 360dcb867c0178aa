{#- The raw tables staging reads, with the staging model that holds their
    clean rows; the reconciliation and schema audits loop over this list.
    Few companies have every source: every table is optional except that a
    build needs shop.customers or shop.orders (raw_core_tables). A table that
    is not provided stages as an empty relation with the contract's columns. -#}
{% macro raw_tables() -%}
    {{ return([
        {'source': 'shop', 'table': 'customers', 'staging_model': 'stg_shop__customers'},
        {'source': 'shop', 'table': 'products', 'staging_model': 'stg_shop__products'},
        {'source': 'shop', 'table': 'orders', 'staging_model': 'stg_shop__orders'},
        {'source': 'shop', 'table': 'order_lines', 'staging_model': 'stg_shop__order_lines'},
        {'source': 'shop', 'table': 'returns', 'staging_model': 'stg_shop__returns'},
        {'source': 'shop', 'table': 'exchange_rates', 'staging_model': 'stg_shop__exchange_rates'},
        {'source': 'web', 'table': 'events', 'staging_model': 'stg_web__events',
            'quarantine_model': 'base_web__events_quarantined'},
        {'source': 'crm', 'table': 'consents', 'staging_model': 'stg_crm__consents'},
        {'source': 'crm', 'table': 'loyalty_members', 'staging_model': 'stg_crm__loyalty_members'},
        {'source': 'crm', 'table': 'service_cases', 'staging_model': 'stg_crm__service_cases'},
        {'source': 'crm', 'table': 'surveys', 'staging_model': 'stg_crm__surveys'},
        {'source': 'marketing', 'table': 'communications', 'staging_model': 'stg_marketing__communications'},
        {'source': 'marketing', 'table': 'assignments', 'staging_model': 'stg_marketing__assignments'},
    ]) }}
{%- endmacro %}


{#- At least one of these must be provided: without accounts or orders there is no customer. -#}
{% macro raw_core_tables() -%}
    {{ return(['shop.customers', 'shop.orders']) }}
{%- endmacro %}


{#- Whether a raw table has data to read: files behind its glob, or a warehouse
    table that exists. Unit tests replace sources with fixtures: always provided. -#}
{% macro raw_table_is_provided(source_name, table_name) -%}
    {%- if not execute or graph.get('sources') is none -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(adapter.dispatch('raw_table_is_provided', 'customer_intelligence')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__raw_table_is_provided(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {{ return(adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none) }}
{%- endmacro %}

{% macro duckdb__raw_table_is_provided(source_name, table_name) -%}
    {%- set pattern = raw_file_pattern(source_name, table_name) -%}
    {%- if pattern is none -%}
        {{ return(default__raw_table_is_provided(source_name, table_name)) }}
    {%- endif -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {{ return(found > 0) }}
{%- endmacro %}


{#- The glob behind a file-backed dbt-duckdb source (read_parquet('<glob>', ...)), or none. -#}
{% macro raw_file_pattern(source_name, table_name) -%}
    {%- set rendered = source(source_name, table_name) | string -%}
    {%- set pattern_match = modules.re.search("^[ ]*[A-Za-z_]+[(][ ]*'([^']+)'", rendered) -%}
    {{ return(none if pattern_match is none else pattern_match.group(1)) }}
{%- endmacro %}


{#- What a base model selects from: the source when it is provided; otherwise
    an empty relation with the contract's columns as text, so every layer
    builds and features that depend on it come out null. The source() call
    always runs so the lineage shows the source either way. -#}
{% macro raw_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if raw_table_is_provided(source_name, table_name) -%}
        {{ relation }}
    {%- else -%}
        {%- set qualified = source_name ~ '.' ~ table_name -%}
        {%- if qualified in raw_core_tables() and not raw_any_core_table_provided() -%}
            {{ exceptions.raise_compiler_error(
                "Raw data missing: neither " ~ raw_core_tables() | join(' nor ') ~ " has any file ("
                ~ (raw_file_pattern('shop', 'orders') or 'shop.orders') ~ "). A build needs accounts or orders:"
                ~ " generate sample data (make data) or point var raw_data_path / env CIW_RAW_DATA_PATH at your files."
            ) }}
        {%- endif -%}
        {{ log("Raw data: " ~ qualified ~ " not provided; it stages as an empty table.", info=true) }}
        (
            select
            {%- for column_name in raw_contract_columns(source_name, table_name) %}
                cast(null as {{ dbt.type_string() }}) as {{ adapter.quote(column_name) }}{{ "," if not loop.last }}
            {%- endfor %}
            where 1 = 0
        )
    {%- endif -%}
{%- endmacro %}


{% macro raw_any_core_table_provided() -%}
    {%- for qualified in raw_core_tables() -%}
        {%- set parts = qualified.split('.') -%}
        {%- if raw_table_is_provided(parts[0], parts[1]) -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
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
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {{ return([{
        'file': relation | string,
        'columns': columns | map(attribute='name') | list,
        'types': columns | map(attribute='dtype') | list,
    }]) }}
{%- endmacro %}

{#- dbt-duckdb sources read files through a table function such as
    read_parquet('<glob>', ...): list the files behind the glob and describe
    each one with the same reader options. -#}
{% macro duckdb__raw_file_columns(source_name, table_name) -%}
    {%- set rendered = source(source_name, table_name) | string -%}
    {%- set pattern = raw_file_pattern(source_name, table_name) -%}
    {%- if pattern is none -%}
        {{ return(default__raw_file_columns(source_name, table_name)) }}
    {%- endif -%}
    {%- set files = run_query("select file from glob('" ~ pattern ~ "') order by file").columns[0].values() -%}
    {%- set results = [] -%}
    {%- for file in files -%}
        {%- set reader = rendered.replace("'" ~ pattern ~ "'", "'" ~ file ~ "'") -%}
        {%- set described = run_query("describe select * from " ~ reader) -%}
        {%- do results.append({
            'file': file,
            'columns': described.columns[0].values() | list,
            'types': described.columns[1].values() | list,
        }) -%}
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
                    ~ "; they are ignored and listed in audit.audit__raw_schema.", info=true) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
