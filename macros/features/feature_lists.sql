{#-
  The lists that become one column each in the customer 360 and the needs
  features. By default they come from the data (int_features__vocabulary):
  a music shop gets columns for its own categories, a shop without web
  tracking gets no device columns. A var set to a list fixes one by hand:
  dbt build --vars '{feature_categories: [garden, tools], feature_sales_channels: [web, store]}'.
-#}

{#- Top-level product categories (int_customer__order_lines.category) with a revenue
    share column each: the var feature_category_count biggest by net revenue; any
    other category, and lines without one, count in category_share_other. -#}
{% macro feature_categories() -%}
    {{ return(feature_vocabulary('category', 'feature_categories', var('feature_category_count', 8))) }}
{%- endmacro %}


{#- Sales channel groups of int_customer__orders.channel (after seeds/sales_channel_groups.csv)
    that get an order share column each. -#}
{% macro feature_sales_channels() -%}
    {{ return(feature_vocabulary('sales_channel', 'feature_sales_channels', var('feature_max_sales_channels', 10))) }}
{%- endmacro %}


{#- Contact channels of stg_crm__consents.channel that get a consent flag each. -#}
{% macro feature_consent_channels() -%}
    {{ return(feature_vocabulary('consent_channel', 'feature_consent_channels', var('feature_max_consent_channels', 10))) }}
{%- endmacro %}


{#- Rolling windows, in days ending on the as-of date, for digital behaviour counts. -#}
{% macro feature_activity_windows() -%}
    {{ return(var('feature_activity_windows', [30, 90, 365])) }}
{%- endmacro %}


{#- A vocabulary's values: the var when it is set to a list, else the data's
    top max_values from int_features__vocabulary. With the project's default
    (null) the ref() is taken at parse time, so the lineage shows where the
    columns come from. Before
    the vocabulary is built (lint, docs on an empty warehouse) the list is empty. -#}
{% macro feature_vocabulary(vocabulary, var_name, max_values) -%}
    {%- set configured = var(var_name, none) -%}
    {#- A list set by hand needs no vocabulary (unit tests set them this way). -#}
    {%- if configured is not none -%}
        {#- A list given as text (an env var, sqlfluff's lint context) is read as YAML. -#}
        {{ return((fromyaml(configured) if configured is string else configured) | list) }}
    {%- endif -%}
    {%- set relation = ref('int_features__vocabulary') -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ log("Vocabulary " ~ vocabulary ~ ": " ~ relation ~ " is not built yet; no " ~ vocabulary
            ~ " columns. Build int_features__vocabulary first, or set var " ~ var_name ~ ".", info=true) }}
        {{ return([]) }}
    {%- endif -%}
    {%- set values_query -%}
        select vocabulary_value from {{ relation }}
        where vocabulary = '{{ vocabulary }}' and value_rank <= {{ max_values | int }}
        order by value_rank
    {%- endset -%}
    {{ return(run_query(values_query).columns[0].values() | list) }}
{%- endmacro %}


{#- Column-name part for a list value: lowercase, runs of other characters become '_'. -#}
{% macro feature_column_suffix(value) -%}
    {{ return(modules.re.sub('[^a-z0-9]+', '_', value | string | lower) | trim('_')) }}
{%- endmacro %}
