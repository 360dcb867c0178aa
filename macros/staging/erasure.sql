{#-
  Erasure (right to be forgotten), applied where raw rows enter the warehouse.
  base_crm__erasure_scope resolves every erasure request to all identifiers of
  the person (ephemeral: the list is never stored); each base model that reads
  a raw table holding personal rows keeps only the rows erasure_keeps() lets
  through, so nothing of the person reaches staging, quarantine or any later
  layer. docs/privacy.md describes the rule.
-#}

{#- The identifier a raw column holds, as an identity node id ('<type>:<value>'),
    normalised the way staging and identity resolution normalise it. -#}
{% macro erasure_node(identifier_type, expression) -%}
    {%- if identifier_type == 'node_id' -%}
        {{ return(expression) }}
    {%- elif identifier_type == 'email' -%}
        {%- set value = normalize_email(expression) -%}
    {%- elif identifier_type == 'phone' -%}
        {%- set value = digits_only(expression) -%}
    {%- else -%}
        {%- set value = expression -%}
    {%- endif -%}
    {{ dbt.concat(["'" ~ identifier_type ~ ":'", value]) }}
{%- endmacro %}


{#- The order id an order-confirmation page names (web events): the trace that ties
    a cookie to an order. stg_web__events reads it the same way. -#}
{% macro confirmation_order_id(page_url_expression) -%}
    case
        when {{ page_url_expression }} like '%order_id=%'
            then {{ dbt.split_part(dbt.split_part(page_url_expression, "'order_id='", 2), "'&'", 1) }}
    end
{%- endmacro %}


{#- Whether any erasure request exists (the seed or raw crm.erasure_requests).
    Without one, erasure_keeps() renders `1 = 1` and the build reads no more
    than before. Asked when the model runs; unit tests never erase. -#}
{% macro erasure_is_requested() -%}
    {%- if not execute or graph.get('sources') is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set seed = ref('privacy_erasure_requests') -%}
    {%- if adapter.get_relation(seed.database, seed.schema, seed.identifier) is not none -%}
        {%- if run_query("select count(*) from " ~ seed).columns[0].values()[0] > 0 -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endif -%}
    {%- if raw_table_is_provided('crm', 'erasure_requests') -%}
        {%- set found = run_query(
            "select count(*) from " ~ raw_source('crm', 'erasure_requests')
        ).columns[0].values()[0] -%}
        {{ return(found > 0) }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}


{#- A where-condition that is false for a row of an erased person. `identifiers`
    maps identifier types (customer_id, email, phone, member_id, anonymous_id,
    order_id; node_id for a ready '<type>:<value>'; customer_key for a key
    identity resolution made from one of the person's identifiers) to the
    row's expressions holding them; a row goes when any of them is in the
    erasure scope. Uncorrelated `not in` so engines plan an
    anti-join; the scope never holds a null node. -#}
{% macro erasure_keeps(identifiers) -%}
    {{- erasure_lineage() -}}
    {%- if not erasure_is_requested() -%}
        1 = 1
    {%- else -%}
        {%- set scope = ref('base_crm__erasure_scope') -%}
        (
        {%- for identifier_type, expression in identifiers.items() %}
            {%- if identifier_type == 'customer_key' %}
            ({{ expression }} is null or {{ expression }} not in (
                select {{ dbt.hash('node_id') }} from {{ scope }}
            )){{ " and" if not loop.last }}
            {%- else %}
            ({{ expression }} is null or {{ erasure_node(identifier_type, expression) }} not in (
                select node_id from {{ scope }}
            )){{ " and" if not loop.last }}
            {%- endif %}
        {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}


{#- Parse time: declare what erasure_keeps() reads (the scope, its seed and its
    source). A model that calls erasure_keeps() only when a condition holds at
    run time calls this unconditionally. -#}
{% macro erasure_lineage() -%}
    {%- if not execute -%}
        {%- do ref('base_crm__erasure_scope') -%}
        {%- do ref('privacy_erasure_requests') -%}
        {%- do source('crm', 'erasure_requests') -%}
    {%- endif -%}
{%- endmacro %}


{#- The smallest of nullable expressions (null only when all are): least() is
    null as soon as one argument is on some engines. -#}
{% macro nullable_min(expressions) -%}
    {%- if expressions | length == 1 -%}
        {{ expressions[0] }}
    {%- else -%}
        {%- set rest = nullable_min(expressions[1:]) -%}
        case
            when {{ expressions[0] }} is null then {{ rest }}
            when ({{ rest }}) is null or {{ expressions[0] }} < ({{ rest }}) then {{ expressions[0] }}
            else {{ rest }}
        end
    {%- endif -%}
{%- endmacro %}


{#- The raw tables that hold rows of persons, with the identifiers each row
    carries (as expressions over the raw columns): the base models filter on
    them, audit__erasures counts what they removed. -#}
{% macro erasure_raw_identifiers() -%}
    {{ return({
        'shop.customers': {
            'customer_id': raw_text(adapter.quote('customer_id')),
            'email': raw_text(adapter.quote('email')),
            'phone': raw_text(adapter.quote('phone')),
        },
        'shop.orders': {
            'order_id': raw_text(adapter.quote('order_id')),
            'customer_id': raw_text(adapter.quote('customer_id')),
            'email': raw_text(adapter.quote('email')),
        },
        'shop.order_lines': {'order_id': raw_text(adapter.quote('order_id'))},
        'shop.returns': {'order_id': raw_text(adapter.quote('order_id'))},
        'web.events': {
            'anonymous_id': raw_text(adapter.quote('anonymous_id')),
            'customer_id': raw_text(adapter.quote('user_id')),
            'order_id': confirmation_order_id(raw_text(adapter.quote('page_url'))),
        },
        'crm.consents': {'customer_id': raw_text(adapter.quote('customer_id'))},
        'crm.loyalty_members': {
            'member_id': raw_text(adapter.quote('member_id')),
            'customer_id': raw_text(adapter.quote('customer_id')),
        },
        'crm.service_cases': {'customer_id': raw_text(adapter.quote('customer_id'))},
        'crm.surveys': {'customer_id': raw_text(adapter.quote('customer_id'))},
        'marketing.communications': {'customer_id': raw_text(adapter.quote('customer_id'))},
        'marketing.assignments': {'customer_id': raw_text(adapter.quote('customer_id'))},
    }) }}
{%- endmacro %}


{#- The where-condition of a base model reading raw `qualified_table`
    ('<source>.<table>'): erasure_keeps() over the table's identifiers. -#}
{% macro erasure_keeps_raw(qualified_table) -%}
    {{ erasure_keeps(erasure_raw_identifiers()[qualified_table]) }}
{%- endmacro %}
