{#-
  The currency every amount is reported in: var reporting_currency; else the
  only currency the staged orders use; else, with several, the one the
  exchange rates convert into (the only order currency without a rate other
  than 1). When that is ambiguous, or a currency has no exchange rate, the
  build fails with a message naming the currencies: amounts in different
  currencies are never summed. None when no order names a currency.
-#}
{% macro reporting_currency(orders_relation, rates_relation) -%}
    {%- set configured = var('reporting_currency', none) -%}
    {%- if not execute -%}
        {{ return(configured) }}
    {%- endif -%}
    {#- Compiling without a build (lint, docs on an empty warehouse): nothing to inspect yet. -#}
    {%- for relation in [orders_relation, rates_relation] -%}
        {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
            {{ return(configured) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set currencies = run_query(
        "select distinct currency from " ~ orders_relation ~ " where currency is not null order by currency"
    ).columns[0].values() | list -%}
    {%- set rated = run_query(
        "select distinct currency from " ~ rates_relation ~ " where rate <> 1"
    ).columns[0].values() | list -%}
    {%- set unrated = [] -%}
    {%- for currency in currencies if currency not in rated -%}
        {%- do unrated.append(currency) -%}
    {%- endfor -%}
    {%- if configured is none and currencies | length > 1 and unrated | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "Orders use several currencies (" ~ currencies | join(', ') ~ ") and the exchange rates do not say "
            ~ "which one they convert into (currencies without a rate: " ~ (unrated | join(', ') or 'none')
            ~ "): set var reporting_currency (e.g. --vars '{reporting_currency: " ~ currencies[0] ~ "}') and give "
            ~ "exchange rates in raw shop.exchange_rates or seeds/currency_exchange_rates.csv."
        ) }}
    {%- endif -%}
    {%- if configured is not none -%}
        {%- set reporting = configured | upper -%}
    {%- elif currencies | length > 1 -%}
        {%- set reporting = unrated[0] -%}
    {%- else -%}
        {%- set reporting = currencies[0] if currencies else none -%}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- set any_rate = run_query("select distinct currency from " ~ rates_relation).columns[0].values() | list -%}
    {%- for currency in currencies if currency != reporting and currency not in any_rate -%}
        {%- do missing.append(currency) -%}
    {%- endfor -%}
    {%- if missing | length > 0 -%}
        {{ exceptions.raise_compiler_error(
            "No exchange rate into " ~ reporting ~ " for currencies: " ~ missing | join(', ')
            ~ ". Add rows (currency, rate_date, rate) to raw shop.exchange_rates or seeds/currency_exchange_rates.csv;"
            ~ " amounts in different currencies are never summed unconverted."
        ) }}
    {%- endif -%}
    {{ return(reporting) }}
{%- endmacro %}


{#- An amount in the reporting currency: untouched at rate 1, otherwise
    converted and kept in the warehouse's numeric type. -#}
{% macro to_reporting_currency(amount, exchange_rate) -%}
    {{ scaled_amount(amount, exchange_rate) }}
{%- endmacro %}


{#- amount x factor in the warehouse's numeric type; exact (untouched) when the factor is 1. -#}
{% macro scaled_amount(amount, factor) -%}
    case
        when {{ factor }} = 1 then {{ amount }}
        else cast({{ amount }} * {{ factor }} as {{ dbt.type_numeric() }})
    end
{%- endmacro %}


{#- A 64-bit float for exchange rates (dbt's type_float is 32-bit on DuckDB,
    which would change a rate's sixth digit). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'customer_intelligence')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}
