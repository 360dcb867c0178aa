{#-
  Staging parses every raw column from text, whatever the file format: typed
  Parquet, all-text CSV and a user's own tables go through the same rules, and
  a value that does not parse becomes null so the quarantine rule can see it.
-#}

{% macro as_text(expression) -%}
    cast({{ expression }} as {{ dbt.type_string() }})
{%- endmacro %}


{#- Trimmed text, with empty strings as null: exports write '' for missing. -#}
{% macro raw_text(column_name) -%}
    nullif(trim({{ as_text(column_name) }}), '')
{%- endmacro %}


{#- An integer only when the text is one: '3' and '3.0' parse, '1.5' does
    not (a cast would round it to 2, silently changing what the data said). -#}
{% macro parse_integer(expression) -%}
    case
        when {{ parse_number(expression) }} = floor({{ parse_number(expression) }})
            then {{ try_cast(parse_number(expression), api.Column.translate_type("integer")) }}
    end
{%- endmacro %}


{#- A number only when the warehouse type holds it exactly: more decimals than
    type_numeric() keeps would be rounded, so such a value is unparseable. -#}
{% macro parse_number(expression) -%}
    case
        when {{ try_cast(expression, dbt.type_numeric()) }} = {{ try_cast(expression, type_double()) }}
            then {{ try_cast(expression, dbt.type_numeric()) }}
    end
{%- endmacro %}


{#- Dates are ISO (YYYY-MM-DD) unless var raw_date_formats names a format for
    the raw table ('shop.customers') or its source ('shop'), e.g.
    {shop.customers: '%d/%m/%Y'}: day-first exports are read as written,
    never guessed. A value that does not match gives null for the caller to flag. -#}
{% macro parse_date(expression, raw_table=none) -%}
    {%- set formats = var('raw_date_formats', {}) or {} -%}
    {%- set date_format = none -%}
    {%- if raw_table is not none -%}
        {%- set date_format = formats.get(raw_table, formats.get(raw_table.split('.')[0])) -%}
    {%- endif -%}
    {%- if date_format is none -%}
        {{ try_cast(expression, "date") }}
    {%- else -%}
        {{ return(adapter.dispatch('parse_date_with_format', 'customer_intelligence')(expression, date_format)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__parse_date_with_format(expression, date_format) -%}
    {{ exceptions.raise_compiler_error(
        "var raw_date_formats is not supported on adapter " ~ adapter.type() ~ ": write dates as YYYY-MM-DD"
    ) }}
{%- endmacro %}

{% macro duckdb__parse_date_with_format(expression, date_format) -%}
    cast(try_strptime({{ expression }}, '{{ date_format }}') as date)
{%- endmacro %}


{% macro parse_boolean(expression) -%}
    case
        when lower({{ expression }}) in ('true', 't', '1', 'yes', 'y') then true
        when lower({{ expression }}) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}


{#- Timestamps land in UTC without a zone. Text with an offset is converted;
    text without one is taken as UTC (the session time zone is UTC). -#}
{% macro parse_timestamp_utc(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'customer_intelligence')(expression)) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(expression) -%}
    {{ try_cast(expression, dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(expression) -%}
    timezone('UTC', try_cast({{ expression }} as timestamptz))
{%- endmacro %}


{% macro normalize_email(expression) -%}
    lower(trim({{ expression }}))
{%- endmacro %}


{#- A normalised email is usable when it has one @ with text on both sides
    and a dot in the domain; anything else is kept raw but not used as an id. -#}
{% macro is_valid_email(normalized_expression) -%}
    ({{ normalized_expression }} like '%_@_%._%' and {{ normalized_expression }} not like '%@%@%'
        and {{ normalized_expression }} not like '% %')
{%- endmacro %}


{% macro digits_only(expression) -%}
    {{ return(adapter.dispatch('digits_only', 'customer_intelligence')(expression)) }}
{%- endmacro %}

{% macro default__digits_only(expression) -%}
    nullif(regexp_replace({{ expression }}, '[^0-9]', ''), '')
{%- endmacro %}

{% macro duckdb__digits_only(expression) -%}
    nullif(regexp_replace({{ expression }}, '[^0-9]', '', 'g'), '')
{%- endmacro %}

{% macro postgres__digits_only(expression) -%}
    nullif(regexp_replace({{ expression }}, '[^0-9]', '', 'g'), '')
{%- endmacro %}


{#- SHA-256 hex, the form ad platforms and CDPs match on. -#}
{% macro sha256(expression) -%}
    {{ return(adapter.dispatch('sha256', 'customer_intelligence')(expression)) }}
{%- endmacro %}

{% macro default__sha256(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}

{% macro duckdb__sha256(expression) -%}
    sha256({{ expression }})
{%- endmacro %}


{#- Mojibake (UTF-8 read as Latin-1) shows as Ã, Â or the replacement sign;
    flag it rather than guess a repair. -#}
{% macro has_encoding_issue(expression) -%}
    coalesce(
        {{ expression }} like '%Ã%' or {{ expression }} like '%Â%' or {{ expression }} like '%�%',
        false
    )
{%- endmacro %}


{#- dbt's own safe_cast is a plain cast on DuckDB, which fails the whole
    query on one bad value; staging needs a null it can quarantine. -#}
{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'customer_intelligence')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    {{ dbt.safe_cast(expression, data_type) }}
{%- endmacro %}

{% macro duckdb__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro spark__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
