{#-
  The currency every amount is reported in: var reporting_currency, or the
  only currency the staged orders use. Orders in several currencies without
  the var, or a currency without any exchange rate, fail the build with a
  message naming them: amounts in different currencies are never summed.
  Returns none when no order names a currency (nothing to convert).
-#}
{% macro reporting_currency(orders_relation, rates_relation) -%}
    {%- set configured = var('reporting_currency', none) -%}
    {%- if not execute -%}
        {{ return(configured) }}
    {%- endif -%}
    {%- set currencies = run_query(
        "select distinct currency from " ~ orders_relation ~ " where currency is not null order by currency"
    ).columns[0].values() | list -%}
    {%- if configured is none and currencies | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            "Orders use several currencies (" ~ currencies | join(', ') ~ "): set var reporting_currency "
            ~ "(e.g. --vars '{reporting_currency: " ~ currencies[0] ~ "}') and give exchange rates in raw "
            ~ "shop.exchange_rates or seeds/currency_exchange_rates.csv."
        ) }}
    {%- endif -%}
    {%- set reporting = (configured | upper) if configured is not none else (currencies[0] if currencies else none) -%}
    {%- set rated = run_query("select distinct currency from " ~ rates_relation).columns[0].values() | list -%}
    {%- set missing = [] -%}
    {%- for currency in currencies if currency != reporting and currency not in rated -%}
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
    case
        when {{ exchange_rate }} = 1 then {{ amount }}
        else cast({{ amount }} * {{ exchange_rate }} as {{ dbt.type_numeric() }})
    end
{%- endmacro %}
