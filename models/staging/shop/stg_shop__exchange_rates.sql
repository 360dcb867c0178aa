with

base as (
    select * from {{ ref('base_shop__exchange_rates') }}
    where quarantine_reason is null
),

final as (
    select
        {{ dbt.concat(['currency', "'|'", as_text('rate_date')]) }} as exchange_rate_id,
        currency,
        rate_date,
        rate
    from base
)

select * from final
