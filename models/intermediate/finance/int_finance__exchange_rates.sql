{#-
  Exchange-rate validity periods into the reporting currency: the rows of
  seeds/currency_exchange_rates.csv (entered by hand; they win on the same
  currency and date) and of the optional raw table shop.exchange_rates. A rate
  holds from its date until the next one; the earliest rate of a currency also
  covers orders before it, so an order is never left unconverted.
-#}
with

seed_rates as (
    select
        upper(currency) as currency,
        cast(rate_date as date) as rate_date,
        cast(rate as {{ type_double() }}) as rate,
        1 as source_priority
    from {{ ref('currency_exchange_rates') }}
),

raw_rates as (
    select
        currency,
        rate_date,
        cast(rate as {{ type_double() }}) as rate,
        2 as source_priority
    from {{ ref('stg_shop__exchange_rates') }}
),

ranked as (
    select
        *,
        row_number() over (partition by currency, rate_date order by source_priority) as source_rank
    from (
        select * from seed_rates
        union all
        select * from raw_rates
    ) as all_rates
),

periods as (
    select
        currency,
        rate_date,
        rate,
        case when source_priority = 1 then 'seed' else 'raw' end as rate_source,
        case
            when row_number() over (partition by currency order by rate_date) = 1
                then cast('1900-01-01' as date)
            else rate_date
        end as valid_from,
        coalesce(
            lead(rate_date) over (partition by currency order by rate_date), cast('9999-12-31' as date)
        ) as valid_to
    from ranked
    where source_rank = 1
),

final as (
    select
        {{ dbt.concat(['currency', "'|'", as_text('rate_date')]) }} as exchange_rate_id,
        currency,
        rate_date,
        rate,
        rate_source,
        valid_from,
        valid_to
    from periods
)

select * from final
