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
  without a problem then compete per key: the first by `version_order` is
  staged, the others are quarantined as duplicates (exact copy or another
  version of the same key). Ranking only among clean rows means a clean row
  is never lost to a broken copy of itself.
-#}
{% macro decide_quarantine(key_columns, version_order='row_fingerprint') -%}
ranked as (
    select
        checked.*,
        row_number() over (
            partition by {{ key_columns | join(', ') }}, case when row_problem is null then 0 else 1 end
            order by {{ version_order }}
        ) as key_rank,
        first_value(row_fingerprint) over (
            partition by {{ key_columns | join(', ') }}, case when row_problem is null then 0 else 1 end
            order by {{ version_order }}
        ) as kept_fingerprint
    from checked
),

decided as (
    select
        ranked.*,
        case
            when row_problem is not null then {{ dbt.split_part('row_problem', "':'", 1) }}
            when key_rank > 1 then 'duplicate'
        end as quarantine_reason,
        case
            when row_problem is not null then {{ dbt.split_part('row_problem', "':'", 2) }}
            when key_rank > 1 and row_fingerprint = kept_fingerprint then 'exact copy'
            when key_rank > 1 then 'same key, other values'
        end as quarantine_detail
    from ranked
)

select * from decided
{%- endmacro %}
