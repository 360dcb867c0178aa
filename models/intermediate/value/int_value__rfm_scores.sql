{#-
  RFM scores and named RFM segment per known customer as of the as-of date.
  Scores are quintiles (1..5, 5 = best) among the customers with a purchase:
  recency by days since the last purchase day (fewer is better), frequency by
  purchase days, monetary by revenue (net of discounts, before returns).
  Ties share a score (macros/value/quantile_score.sql). The segment comes
  from the recency x frequency grid in the seed value_rfm_segments;
  customers without a purchase get the seed's row without score ranges.
-#}
with

customers as (
    select * from {{ ref('customer_360') }}
),

purchase_summary as (
    select * from {{ ref('int_value__purchase_summary') }}
),

rfm_segments as (
    select * from {{ ref('value_rfm_segments') }}
),

buyers as (
    select
        customer_key,
        purchase_days,
        revenue,
        {{ dbt.datediff('last_purchase_date', as_of_date_literal(), 'day') }}
            as days_since_last_purchase
    from purchase_summary
),

scored as (
    select
        customer_key,
        days_since_last_purchase,
        purchase_days,
        revenue,
        {{ value_quantile_score('days_since_last_purchase', descending=true) }} as recency_score,
        {{ value_quantile_score('purchase_days') }} as frequency_score,
        {{ value_quantile_score('revenue') }} as monetary_score
    from buyers
),

segmented as (
    select
        scored.customer_key,
        scored.days_since_last_purchase,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        rfm_segments.rfm_segment
    from scored
    left join rfm_segments
        on
            scored.recency_score between rfm_segments.min_recency_score and rfm_segments.max_recency_score
            and scored.frequency_score between rfm_segments.min_frequency_score and rfm_segments.max_frequency_score
),

no_purchase_segment as (
    select rfm_segment
    from rfm_segments
    where min_recency_score is null
),

final as (
    select
        customers.customer_key,
        segmented.days_since_last_purchase,
        segmented.recency_score,
        segmented.frequency_score,
        segmented.monetary_score,
        case
            when segmented.customer_key is not null
                then
                    {{ dbt.concat([
                        dbt.cast('segmented.recency_score', dbt.type_string()),
                        dbt.cast('segmented.frequency_score', dbt.type_string()),
                        dbt.cast('segmented.monetary_score', dbt.type_string())
                    ]) }}
        end as rfm_cell,
        case
            when segmented.customer_key is null then no_purchase_segment.rfm_segment
            else segmented.rfm_segment
        end as rfm_segment
    from customers
    left join segmented on customers.customer_key = segmented.customer_key
    -- One row by the seed's tests; a left join so a missing row cannot drop customers.
    left join no_purchase_segment on 1 = 1
)

select * from final
