{#-
  The segment centroids customers are assigned to today: the segments of the
  latest fit up to the as-of date (needs_segment_fit_history), one row per
  segment and feature, with the scaling of that fit. customer_needs z-scores
  each customer with feature_mean and feature_sd and measures the distance to
  center_scaled; center_value is the same point in the feature's own units.
-#}
with

fit_history as (
    select * from {{ ref('needs_segment_fit_history') }}
),

latest_fit as (
    select max(as_of_date) as fitted_as_of_date
    from fit_history
    where as_of_date <= {{ as_of_date_literal() }}
),

final as (
    select
        fit_history.segment_id,
        fit_history.feature_name,
        fit_history.generated_name,
        fit_history.as_of_date as fitted_as_of_date,
        fit_history.feature_mean,
        fit_history.feature_sd,
        fit_history.center_scaled,
        fit_history.center_value
    from fit_history
    inner join latest_fit on fit_history.as_of_date = latest_fit.fitted_as_of_date
    where fit_history.segment_status != 'vanished'
)

select * from final
