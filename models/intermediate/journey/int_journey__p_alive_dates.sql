{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 3.5 MiB there. -#}
{{ config(materialized='view') }}
{#-
  BG/NBD P(alive) after each purchase, in closed form, so the rule "at risk
  when P(alive) falls below p_alive_at_risk_below" holds at any date, not
  only on the as-of date. For a customer with x repeat purchase days, the
  last at t_x days after the first, P(alive) at T days after the first is
  (Fader, Hardie & Lee 2005, eq. 13)
      1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ^ (r + x))   (x > 0; 1 when x = 0)
  It falls with T, and drops below p* once
      T > (alpha + t_x) * ((1 - p*) / p* * (b + x - 1) / a) ^ (1 / (r + x)) - alpha,
  so p_alive_at_risk_date is the first day after that (at the earliest the
  purchase day itself). After a first purchase (x = 0) BG/NBD says 1 and
  sets no date. Parameters r, alpha, a, b (time unit: day): this build's
  BG/NBD fit in clv_model_fit. Without one (var clv_model: pareto_nbd), with
  p_alive_at_risk_below = 0, or when that fit is not sound (fit_status other
  than 'ok': a parameter at a bound or standard errors that dwarf the
  estimates, where P(alive) is about 1 for everyone and means nothing), the
  rule is off and the dates are null; P(alive) itself is still reported. The
  stage rules then follow the silence thresholds alone. The date is also
  when a silent repeat buyer may lapse: lapsed needs P(alive) below the
  threshold as well (int_journey__stage_checkpoints). The fit is refreshed
  every build, so past at-risk days from this rule can move slightly between
  builds; the rhythm rules never do.
-#}
with

purchase_days as (
    select
        customer_key,
        purchase_date,
        purchase_number,
        first_purchase_date,
        days_since_first_purchase
    from {{ ref('int_journey__purchase_days') }}
),

fits as (
    select
        r,
        alpha,
        a,
        b,
        -- Fits written before the diagnostics existed have no status: as before, they count.
        coalesce(fit_status, 'ok') = 'ok' as is_sound_fit,
        row_number() over (order by fitted_at desc, fit_id desc) as recency_rank
    from {{ ref('clv_model_fit') }}
    where
        model_name = 'bg_nbd'
        and as_of_date = {{ as_of_date_literal() }}
),

parameters as (
    select
        fits.r,
        fits.alpha,
        fits.a,
        fits.b,
        case when fits.is_sound_fit then thresholds.p_alive_at_risk_below else 0 end as p_alive_at_risk_below
    from fits
    cross join {{ ref('int_journey__thresholds') }} as thresholds
    where fits.recency_rank = 1
),

with_history as (
    select
        purchase_days.customer_key,
        purchase_days.purchase_date,
        purchase_days.first_purchase_date,
        purchase_days.purchase_number - 1 as repeat_purchases,
        purchase_days.days_since_first_purchase as recency_days,
        {{ dbt.datediff('purchase_days.first_purchase_date', as_of_date_literal(), 'day') }}
            as t_days,
        parameters.r,
        parameters.alpha,
        parameters.a,
        parameters.b,
        parameters.p_alive_at_risk_below
    from purchase_days
    cross join parameters
),

-- (alpha + T) / (alpha + t_x) with T on the as-of date.
with_ratios as (
    select
        customer_key,
        purchase_date,
        first_purchase_date,
        repeat_purchases,
        recency_days,
        r,
        alpha,
        a,
        b,
        p_alive_at_risk_below,
        (alpha + t_days) / (alpha + recency_days) as time_ratio
    from with_history
),

crossings as (
    select
        customer_key,
        purchase_date,
        first_purchase_date,
        recency_days,
        case
            when repeat_purchases = 0 then 1.0
            else 1.0 / (1.0 + a / (b + repeat_purchases - 1) * power(time_ratio, r + repeat_purchases))
        end as p_alive_on_as_of_date,
        case
            when repeat_purchases > 0 and p_alive_at_risk_below > 0
                then
                    (alpha + recency_days)
                    * power(
                        (1.0 - p_alive_at_risk_below) / p_alive_at_risk_below * (b + repeat_purchases - 1) / a,
                        1.0 / (r + repeat_purchases)
                    )
                    - alpha
        end as crossing_days
    from with_ratios
),

final as (
    select
        {{ dbt.concat(['customer_key', "'|'", as_text('purchase_date')]) }} as purchase_day_id,
        customer_key,
        purchase_date,
        p_alive_on_as_of_date as p_alive,
        case
            when crossing_days is not null
                then {{ journey_add_days(
                    'first_purchase_date',
                    'greatest(recency_days, cast(floor(crossing_days) as ' ~ dbt.type_int() ~ ') + 1)'
                ) }}
        end as p_alive_at_risk_date
    from crossings
)

select * from final
