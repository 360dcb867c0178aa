{#-
  Every customer of the customer 360 with their needs segment, assigned in SQL
  so it scales on any engine: each customer with enough history is z-scored
  with the current fit's scaling (a missing value counts as the mean, 0) and
  compared with every centroid (a cross join of customers x segments, k rows
  per customer); the nearest wins, ties to the lower id. Customers without
  enough history (var('needs_min_orders')), or before any fit exists, get
  segment 0, the explicit cold-start segment 'unknown', never a guess.
  The persona name is the seed needs_personas' when it has one for the
  segment, else the name generated at the segment's first fit.
-#}
{%- set features = needs_feature_columns() -%}
with

features as (
    select * from {{ ref('int_needs__features') }}
),

centroids as (
    select * from {{ ref('needs_segment_centroids') }}
),

personas as (
    select * from {{ ref('needs_personas') }}
),

scaling as (
    select
        {%- for feature in features %}
            max(case when feature_name = '{{ feature }}' then feature_mean end) as {{ feature }}__mean,
            max(case when feature_name = '{{ feature }}' then feature_sd end) as {{ feature }}__sd,
        {%- endfor %}
        max(fitted_as_of_date) as fitted_as_of_date
    from centroids
),

centers as (
    select
        segment_id,
        {%- for feature in features %}
            coalesce(max(case when feature_name = '{{ feature }}' then center_scaled end), 0)
                as {{ feature }}__center,
        {%- endfor %}
        max(generated_name) as generated_name
    from centroids
    group by segment_id
),

scaled_customers as (
    select
        {%- for feature in features %}
            coalesce(
                (features.{{ feature }} - scaling.{{ feature }}__mean) / nullif(scaling.{{ feature }}__sd, 0), 0
            ) as {{ feature }}__z,
        {%- endfor %}
        features.customer_key
    from features
    cross join scaling
    where features.has_enough_history
),

distances as (
    select
        scaled_customers.customer_key,
        centers.segment_id,
        sqrt(
            {%- for feature in features %}
                power(scaled_customers.{{ feature }}__z - centers.{{ feature }}__center, 2)
                {{- ' +' if not loop.last }}
            {%- endfor %}
        ) as distance
    from scaled_customers
    cross join centers
),

ranked_distances as (
    select
        customer_key,
        segment_id,
        distance,
        row_number() over (partition by customer_key order by distance asc, segment_id asc) as distance_rank
    from distances
),

nearest as (
    select
        customer_key,
        segment_id,
        distance
    from ranked_distances
    where distance_rank = 1
),

runner_up as (
    select
        customer_key,
        segment_id,
        distance
    from ranked_distances
    where distance_rank = 2
),

final as (
    select
        features.customer_key,
        features.as_of_date,
        coalesce(nearest.segment_id, 0) as needs_segment_id,
        coalesce(personas.persona_name, centers.generated_name, 'unknown') as persona_name,
        nearest.distance as segment_distance,
        case
            when nearest.segment_id is null then null
            when runner_up.distance is null then 1.0
            when runner_up.distance = 0 then 0.0
            else 1 - nearest.distance / runner_up.distance
        end as segment_confidence,
        runner_up.segment_id as runner_up_segment_id,
        runner_up.distance as runner_up_distance,
        not features.has_enough_history as is_cold_start,
        features.orders_count,
        case when nearest.segment_id is not null then scaling.fitted_as_of_date end as segment_fitted_as_of_date
    from features
    cross join scaling
    left join nearest on features.customer_key = nearest.customer_key
    left join runner_up on features.customer_key = runner_up.customer_key
    left join centers on nearest.segment_id = centers.segment_id
    left join personas on coalesce(nearest.segment_id, 0) = personas.segment_id
)

select * from final
