{#- Helpers shared by the base_* models, which parse raw rows and decide for
    each one whether it is staged or quarantined (and why). -#}

{#- These helpers take contract column names and read the raw_<name> text
    columns that select_raw_text() produces. -#}

{#- Raw values as one text, '|'-joined, '<null>' for a missing one: the raw key
    in the quarantine table, and (hashed) a row's fingerprint. -#}
{% macro raw_key_text(column_names) -%}
    {%- set parts = [] -%}
    {%- for column_name in column_names -%}
        {%- do parts.append("coalesce(raw_" ~ column_name ~ ", '<null>')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) if parts | length > 1 else parts[0] }}
{%- endmacro %}


{#- A stable fingerprint of all raw values: equal fingerprints are exact
    copies, and it breaks ties deterministically when one key has two versions. -#}
{% macro row_fingerprint(column_names) -%}
    {{ dbt.hash(raw_key_text(column_names)) }}
{%- endmacro %}


{#- All raw values of a row as one JSON object text, so a quarantined row can
    be read and replayed without going back to the file. -#}
{% macro raw_values_json(column_names) -%}
    {{ return(adapter.dispatch('raw_values_json', 'customer_intelligence')(column_names)) }}
{%- endmacro %}

{% macro duckdb__raw_values_json(column_names) -%}
    cast(json_object(
        {%- for column_name in column_names %}
        '{{ column_name }}', raw_{{ column_name }}{{ "," if not loop.last }}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro default__raw_values_json(column_names) -%}
    {%- set parts = ["'{'"] -%}
    {%- for column_name in column_names -%}
        {%- do parts.append("'\"" ~ column_name ~ "\": '") -%}
        {%- do parts.append("coalesce(" ~ dbt.concat(["'\"'", "replace(" ~ column_name ~ ", '\"', '''')", "'\"'"]) ~ ", 'null')") -%}
        {%- if not loop.last %}{% do parts.append("', '") %}{% endif -%}
    {%- endfor -%}
    {%- do parts.append("'}'") -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}


{#- Select every raw column as trimmed text under its raw name. -#}
{% macro select_raw_text(column_names) -%}
    {%- for column_name in column_names %}
        {{ raw_text(adapter.quote(column_name)) }} as {{ 'raw_' ~ column_name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#-
  The common tail of every base model. The model's `checked` CTE carries
  `row_problem` ('<reason>:<detail>' or null) for row-level problems. Rows
  without a problem then compete per key; ranking only among clean rows means
  a clean row is never lost to a broken copy of itself. The winner is staged:

  - tables whose rows change over time (customer records, consents, service
    cases, loyalty memberships) pass `newest_first`, the expressions that order
    versions newest first by the row's own timestamps (their status
    timestamps: resolved_at, left_at, ...). Ties go to the later raw file
    (`raw_file`, the path: later names sort later, so name daily drops and
    parts in sortable form), then to the row fingerprint. A loser that differs
    from the winner is `superseded` (a newer version is staged); an exact copy
    of the winner is a `duplicate` ('exact copy');
  - other tables (events, orders, lines: one row per fact) rank by
    `version_order` (default: the fingerprint), and every loser is a
    `duplicate` ('exact copy', or 'same key, other values').
  docs/staging-rules.md describes the rule for users.
-#}
{% macro decide_quarantine(key_columns, version_order='row_fingerprint', newest_first=none) -%}
{%- set is_versioned = newest_first is not none -%}
{%- if is_versioned -%}
    {%- set ordering = (newest_first | list) + ['raw_file desc nulls last', 'row_fingerprint'] -%}
{%- else -%}
    {%- set ordering = [version_order] -%}
{%- endif -%}
ranked as (
    select
        checked.*,
        row_number() over (
            partition by {{ key_columns | join(', ') }}, case when row_problem is null then 0 else 1 end
            order by {{ ordering | join(', ') }}
        ) as key_rank,
        first_value(row_fingerprint) over (
            partition by {{ key_columns | join(', ') }}, case when row_problem is null then 0 else 1 end
            order by {{ ordering | join(', ') }}
        ) as kept_fingerprint
    from checked
),

decided as (
    select
        ranked.*,
        case
            when row_problem is not null then {{ dbt.split_part('row_problem', "':'", 1) }}
            {%- if is_versioned %}
            when key_rank > 1 and row_fingerprint != kept_fingerprint then 'superseded'
            {%- endif %}
            when key_rank > 1 then 'duplicate'
        end as quarantine_reason,
        case
            when row_problem is not null then {{ dbt.split_part('row_problem', "':'", 2) }}
            when key_rank > 1 and row_fingerprint = kept_fingerprint then 'exact copy'
            {%- if is_versioned %}
            when key_rank > 1 then 'newer version staged'
            {%- else %}
            when key_rank > 1 then 'same key, other values'
            {%- endif %}
        end as quarantine_detail
    from ranked
)

select * from decided
{%- endmacro %}


{#- The raw file a row was read from (its path), where the engine can tell:
    the later file wins a tie between two versions of a row. Null where it
    cannot (a warehouse-table source, a unit test's fixture rows, a table not
    provided); the fingerprint then breaks the tie. -#}
{% macro raw_file_name(source_name, table_name) -%}
    {{ return(adapter.dispatch('raw_file_name', 'customer_intelligence')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__raw_file_name(source_name, table_name) -%}
    cast(null as {{ dbt.type_string() }})
{%- endmacro %}

{#- DuckDB's file readers (read_parquet, read_csv) expose the virtual column
    `filename` without listing it among the file's columns. -#}
{% macro duckdb__raw_file_name(source_name, table_name) -%}
    {%- if execute and graph.get('sources') is not none
        and raw_file_pattern(source_name, table_name) is not none
        and raw_table_is_provided(source_name, table_name) -%}
        filename
    {%- else -%}
        {{ default__raw_file_name(source_name, table_name) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__raw_file_name(source_name, table_name) -%}
    {%- if execute and graph.get('sources') is not none and raw_table_is_provided(source_name, table_name) -%}
        input_file_name()
    {%- else -%}
        {{ default__raw_file_name(source_name, table_name) }}
    {%- endif -%}
{%- endmacro %}


{#-
  The refused rows of some raw tables as audit.audit__quarantine shows them: one
  select per table from the model that holds its refused rows (its base view, or
  the table that stores them), the raw values as JSON, a row id numbered within
  source, table and raw key. audit__quarantine_stored stores the tables decided
  again on every run; audit__quarantine adds the tables whose refused rows are
  stored already (raw_tables()' quarantine_model), so their raw text is stored once.
-#}
{% macro quarantine_rows(raws) -%}
    select
        {{ dbt.concat([
            'source_name', "'.'", 'table_name', "':'", 'raw_key', "'#'",
            as_text('row_number() over (partition by source_name, table_name, raw_key order by quarantine_reason, raw_values)')
        ]) }} as quarantine_row_id,
        source_name,
        table_name,
        raw_key,
        quarantine_reason,
        quarantine_detail,
        raw_values,
        {{ as_of_date_literal() }} as as_of_date
    from (
        {%- for raw in raws %}
            select
                '{{ raw.source }}' as source_name,
                '{{ raw.table }}' as table_name,
                raw_key,
                quarantine_reason,
                quarantine_detail,
                {#- Only refused rows pay for the JSON; the column list is the contract's. #}
                {{ raw_values_json(raw_contract_columns(raw.source, raw.table) if execute else ['x']) }} as raw_values
            from {{ ref(raw.get('quarantine_model', raw.staging_model | replace('stg_', 'base_', 1))) }}
            where quarantine_reason is not null
            {%- if not loop.last %}

                union all
            {%- endif %}
        {%- endfor %}
    ) as quarantined
{%- endmacro %}
