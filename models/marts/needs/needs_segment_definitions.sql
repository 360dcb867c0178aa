{#-
  The history of segment definitions, one row per run (as-of date) and
  segment, for people: which segments each refit kept (matched to the previous
  run's, with the centroid distance), which are new and which vanished, and
  how the number of segments was chosen. The centroids themselves, per
  feature, are in needs_segment_fit_history.
-#}
with

fit_history as (
    select * from {{ ref('needs_segment_fit_history') }}
),

segment_runs as (
    select
        as_of_date,
        segment_id,
        max(segment_status) as segment_status,
        max(generated_name) as generated_name,
        max(previous_as_of_date) as previous_as_of_date,
        max(match_distance) as match_distance,
        max(sample_customers) as sample_customers,
        max(sample_share) as sample_share,
        max(segments_count) as segments_count,
        max(k_selection_method) as k_selection_method,
        max(prediction_strength) as prediction_strength,
        max(prediction_strength_by_k) as prediction_strength_by_k,
        max(sample_size) as sample_size,
        count(*) as features_count
    from fit_history
    group by as_of_date, segment_id
),

final as (
    select
        as_of_date,
        segment_id,
        segment_status,
        generated_name,
        previous_as_of_date,
        match_distance,
        sample_customers,
        sample_share,
        segments_count,
        k_selection_method,
        prediction_strength,
        prediction_strength_by_k,
        sample_size,
        features_count,
        min(as_of_date) over (partition by segment_id) as first_defined_as_of_date,
        max(as_of_date) over (partition by segment_id) as last_defined_as_of_date
    from segment_runs
)

select * from final
