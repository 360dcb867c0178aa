{#-
  Value tier per known customer, combining current and predicted value.
  Among buyers (customers with a purchase): current_value_percentile ranks
  revenue, predicted_value_percentile ranks predicted_clv (both SQL
  percent_rank: 0 = lowest, 1 = highest, ties share the lower value);
  value_score = w * current + (1 - w) * predicted, w = var
  value_tier_current_weight; the tier is the seed value_tiers row with the
  highest min_value_percentile at or below the percent rank of value_score
  (top = the best 20% by default). Customers without a purchase get the
  seed's row without a threshold ('none').
  value_quadrant splits current and predicted value at var
  value_high_percentile: royal_and_loyal (both high), high_potential
  (predicted high, current not), fading_value (current high, predicted not)
  and low_value.
-#}
{%- set current_weight = var('value_tier_current_weight', 0.5) -%}
{%- set high_percentile = var('value_high_percentile', 0.8) -%}
with

customers as (
    select * from {{ ref('customer_360') }}
),

purchase_summary as (
    select * from {{ ref('int_value__purchase_summary') }}
),

predictions as (
    select * from {{ ref('int_value__clv_predictions') }}
),

value_tiers as (
    select * from {{ ref('value_tiers') }}
),

buyers as (
    select
        purchase_summary.customer_key,
        purchase_summary.revenue,
        predictions.predicted_clv
    from purchase_summary
    inner join predictions on purchase_summary.customer_key = predictions.customer_key
),

percentiles as (
    select
        customer_key,
        revenue,
        predicted_clv,
        percent_rank() over (order by revenue) as current_value_percentile,
        percent_rank() over (order by predicted_clv) as predicted_value_percentile
    from buyers
),

scored as (
    select
        customer_key,
        current_value_percentile,
        predicted_value_percentile,
        {{ current_weight }} * current_value_percentile
        + (1 - {{ current_weight }}) * predicted_value_percentile as value_score
    from percentiles
),

ranked as (
    select
        customer_key,
        current_value_percentile,
        predicted_value_percentile,
        value_score,
        percent_rank() over (order by value_score) as value_score_percentile
    from scored
),

tier_candidates as (
    select
        ranked.customer_key,
        value_tiers.value_tier,
        value_tiers.value_tier_rank,
        row_number() over (
            partition by ranked.customer_key
            order by value_tiers.min_value_percentile desc
        ) as candidate_rank
    from ranked
    inner join value_tiers
        on ranked.value_score_percentile >= value_tiers.min_value_percentile
),

no_purchase_tier as (
    select
        value_tier,
        value_tier_rank
    from value_tiers
    where min_value_percentile is null
),

final as (
    select
        customers.customer_key,
        ranked.current_value_percentile,
        ranked.predicted_value_percentile,
        ranked.value_score,
        ranked.value_score_percentile,
        case
            when ranked.customer_key is null then no_purchase_tier.value_tier
            else tier_candidates.value_tier
        end as value_tier,
        case
            when ranked.customer_key is null then no_purchase_tier.value_tier_rank
            else tier_candidates.value_tier_rank
        end as value_tier_rank,
        case
            when ranked.customer_key is null then null
            when
                ranked.current_value_percentile >= {{ high_percentile }}
                and ranked.predicted_value_percentile >= {{ high_percentile }}
                then 'royal_and_loyal'
            when ranked.predicted_value_percentile >= {{ high_percentile }} then 'high_potential'
            when ranked.current_value_percentile >= {{ high_percentile }} then 'fading_value'
            else 'low_value'
        end as value_quadrant
    from customers
    left join ranked on customers.customer_key = ranked.customer_key
    left join tier_candidates
        on
            ranked.customer_key = tier_candidates.customer_key
            and tier_candidates.candidate_rank = 1
    -- One row by the seed's tests; a left join so a missing row cannot drop customers.
    left join no_purchase_tier on 1 = 1
)

select * from final
