{#-
  The customers the needs clustering is fitted on: those with enough history,
  the first var('needs_sample_size') by the hash order of int_needs__features.
  Only this table is read into memory by the fit (needs_segment_fit_history),
  so fitting stays bounded whatever the number of customers; the sample
  changes little from one day to the next, which keeps refits stable.
-#}
with

features as (
    select * from {{ ref('int_needs__features') }}
),

final as (
    select
        customer_key,
        as_of_date,
        {%- for feature in needs_feature_columns() %}
            {{ feature }},
        {%- endfor %}
        fitting_sample_rank
    from features
    where
        has_enough_history
        and fitting_sample_rank <= {{ var('needs_sample_size', 20000) }}
)

select * from final
