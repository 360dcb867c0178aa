{#-
  The value mart: one row per known customer (the keys of customer_360) as of
  the as-of date, with historical value, RFM, the Pareto position, predicted
  value (CLV with an interval), the value tier and cross- and up-sell
  potential. Revenue is net of line discounts and before returns; gross
  margin takes off the cost of goods and refunds (customer_360's
  definitions). Predictions are null for customers without a purchase: the
  purchase models describe buyers. See _value__models.yml for each column.
-#}
with

customers as (
    select * from {{ ref('customer_360') }}
),

purchase_summary as (
    select * from {{ ref('int_value__purchase_summary') }}
),

rfm_scores as (
    select * from {{ ref('int_value__rfm_scores') }}
),

predictions as (
    select * from {{ ref('int_value__clv_predictions') }}
),

tiers as (
    select * from {{ ref('int_value__customer_tiers') }}
),

peer_groups as (
    select * from {{ ref('int_value__peer_groups') }}
),

cross_sell as (
    select * from {{ ref('int_value__cross_sell') }}
),

upsell as (
    select * from {{ ref('int_value__upsell') }}
),

historical as (
    select
        customers.customer_key,
        customers.as_of_date,
        customers.net_revenue as revenue,
        customers.gross_margin,
        customers.orders_count as orders,
        coalesce(purchase_summary.purchase_days, 0) as purchase_days,
        purchase_summary.first_purchase_date,
        purchase_summary.last_purchase_date,
        customers.tenure_days
    from customers
    left join purchase_summary on customers.customer_key = purchase_summary.customer_key
),

-- Pareto position over all known customers: highest revenue first, ties by key.
pareto as (
    select
        customer_key,
        cast(
            row_number() over (order by revenue desc, customer_key asc) - 1 as {{ dbt.type_float() }}
        ) / cast(count(*) over () as {{ dbt.type_float() }}) as revenue_rank_share,
        {{ safe_ratio(
            'sum(revenue) over (order by revenue desc, customer_key asc rows between unbounded preceding and current row)',
            'sum(revenue) over ()'
        ) }} as cumulative_revenue_share
    from historical
),

final as (
    select
        historical.customer_key,
        historical.as_of_date,

        -- historical value
        historical.revenue,
        historical.gross_margin,
        {{ safe_ratio('historical.gross_margin', 'historical.revenue') }} as gross_margin_rate,
        historical.orders,
        historical.purchase_days,
        historical.first_purchase_date,
        historical.last_purchase_date,
        historical.tenure_days,
        rfm_scores.days_since_last_purchase,
        rfm_scores.recency_score,
        rfm_scores.frequency_score,
        rfm_scores.monetary_score,
        rfm_scores.rfm_cell,
        rfm_scores.rfm_segment,
        pareto.revenue_rank_share,
        pareto.cumulative_revenue_share,

        -- predicted value
        predictions.p_alive,
        predictions.expected_purchases,
        predictions.expected_order_value,
        predictions.expected_days_between_purchases,
        predictions.probability_no_purchase,
        predictions.predicted_clv,
        predictions.predicted_clv_lower,
        predictions.predicted_clv_upper,
        predictions.predicted_clv
        * {{ safe_ratio('historical.gross_margin', 'historical.revenue') }} as predicted_gross_margin,
        predictions.clv_horizon_days,

        -- tiers
        tiers.current_value_percentile,
        tiers.predicted_value_percentile,
        tiers.value_score,
        tiers.value_tier,
        tiers.value_tier_rank,
        tiers.value_quadrant,

        -- cross- and up-sell
        peer_groups.dominant_category,
        peer_groups.peer_group,
        cross_sell.cross_sell_category,
        cross_sell.cross_sell_expected_margin,
        cross_sell.cross_sell_peer_penetration,
        upsell.price_index,
        coalesce(upsell.upsell_signal, false) as upsell_signal
    from historical
    left join rfm_scores on historical.customer_key = rfm_scores.customer_key
    left join pareto on historical.customer_key = pareto.customer_key
    left join predictions on historical.customer_key = predictions.customer_key
    left join tiers on historical.customer_key = tiers.customer_key
    left join peer_groups on historical.customer_key = peer_groups.customer_key
    left join cross_sell on historical.customer_key = cross_sell.customer_key
    left join upsell on historical.customer_key = upsell.customer_key
)

select * from final
