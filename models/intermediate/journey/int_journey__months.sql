{#-
  The calendar months journey_kpis reports on: from the first month of any
  customer's lifecycle history to the as-of month, whose end is the as-of
  date; at most max_months (1200 months: 100 years).
-#}
{%- set max_months = 1200 -%}
with

spells as (
    select valid_from
    from {{ ref('customer_lifecycle_history') }}
),

bounds as (
    select
        {{ dbt.date_trunc('month', 'min(valid_from)') }} as first_month,
        {{ dbt.date_trunc('month', as_of_date_literal()) }} as last_month
    from spells
),

month_starts as (
    select
        cast({{ dbt.dateadd('month', 'series.generated_number - 1', 'bounds.first_month') }} as date)
            as month_start
    from ({{ dbt.generate_series(max_months) }}) as series
    cross join bounds
    where {{ dbt.dateadd('month', 'series.generated_number - 1', 'bounds.first_month') }} <= bounds.last_month
),

final as (
    select
        month_start,
        case
            when {{ dbt.last_day('month_start', 'month') }} < {{ as_of_date_literal() }}
                then cast({{ dbt.last_day('month_start', 'month') }} as date)
            else {{ as_of_date_literal() }}
        end as month_end
    from month_starts
)

select * from final
