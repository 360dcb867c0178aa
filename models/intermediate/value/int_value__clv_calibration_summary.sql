{#-
  The classic BG/NBD calibration / holdout split (Fader, Hardie & Lee 2005),
  one row per customer_key whose first purchase day is on or before the
  calibration end: as-of date - var clv_calibration_holdout_days. Purchases are
  purchase days of non-cancelled orders of known customers, as in
  int_value__purchase_summary.
  - frequency, recency_days, t_days: the calibration-period history, T measured
    to the calibration end (what the model is fitted on);
  - calibration_frequency: frequency capped at var
    clv_calibration_max_frequency (the top bucket means "that many or more");
  - holdout_purchase_days: purchase days after the calibration end, up to the
    as-of date (what the model is checked against).
  Customers whose first purchase falls in the holdout are not here: the model
  says nothing about customers it has not seen.
-#}
{%- set holdout_days = var('clv_calibration_holdout_days', 180) | int -%}
{%- set max_frequency = var('clv_calibration_max_frequency', 7) | int -%}
{%- if holdout_days < 1 or max_frequency < 1 -%}
    {{ exceptions.raise_compiler_error(
        "vars clv_calibration_holdout_days and clv_calibration_max_frequency must be at least 1, got "
        ~ holdout_days ~ " and " ~ max_frequency
    ) }}
{%- endif -%}
{%- set calibration_end -%}
    cast({{ dbt.dateadd('day', -holdout_days, as_of_date_literal()) }} as date)
{%- endset -%}
with

orders as (
    select * from {{ ref('int_customer__orders') }}
    -- Anonymous purchases are revenue, not a customer's purchase process.
    where not is_cancelled and is_known_customer
),

purchase_days as (
    select distinct
        customer_key,
        order_date as purchase_date
    from orders
),

split as (
    select {{ calibration_end }} as calibration_end_date
),

per_customer as (
    select
        purchase_days.customer_key,
        split.calibration_end_date,
        min(case when purchase_days.purchase_date <= split.calibration_end_date then purchase_days.purchase_date end)
            as first_purchase_date,
        max(case when purchase_days.purchase_date <= split.calibration_end_date then purchase_days.purchase_date end)
            as last_purchase_date,
        count(case when purchase_days.purchase_date <= split.calibration_end_date then 1 end)
            as calibration_purchase_days,
        count(case when purchase_days.purchase_date > split.calibration_end_date then 1 end)
            as holdout_purchase_days
    from purchase_days
    cross join split
    group by purchase_days.customer_key, split.calibration_end_date
),

final as (
    select
        customer_key,
        {{ as_of_date_literal() }} as as_of_date,
        calibration_end_date,
        {{ holdout_days }} as holdout_days,
        first_purchase_date,
        calibration_purchase_days - 1 as frequency,
        {{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }}
            as recency_days,
        {{ dbt.datediff('first_purchase_date', 'calibration_end_date', 'day') }}
            as t_days,
        least(calibration_purchase_days - 1, {{ max_frequency }}) as calibration_frequency,
        holdout_purchase_days
    from per_customer
    where first_purchase_date is not null
)

select * from final
