{#-
  Every staged order's currency and the rate that converts its amounts into
  the reporting currency (macros/finance/reporting_currency.sql): 1 for the
  reporting currency itself, else the rate valid on the order date. An order
  without a currency is taken to be in the reporting currency and flagged.
-#}
{%- set reporting = reporting_currency(ref('stg_shop__orders'), ref('int_finance__exchange_rates')) -%}
{%- set reporting_literal = "'" ~ reporting ~ "'" if reporting else 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

rates as (
    select * from {{ ref('int_finance__exchange_rates') }}
),

final as (
    select
        orders.order_id,
        orders.order_date,
        coalesce(orders.currency, {{ reporting_literal }}) as currency,
        orders.currency is null as is_currency_assumed,
        {{ reporting_literal }} as reporting_currency,
        case
            when orders.currency is null or orders.currency = {{ reporting_literal }}
                then cast(1 as {{ type_double() }})
            else rates.rate
        end as exchange_rate
    from orders
    left join rates
        on
            orders.currency = rates.currency
            and orders.order_date >= rates.valid_from
            and orders.order_date < rates.valid_to
)

select * from final
