{#-
  One readable profile per needs segment (and the cold-start segment 0): its
  persona, size, share of customers, revenue and gross margin, the features
  that set its centroid furthest from the average customer (in standard
  deviations of the fitting sample), and what its members typically do:
  leading category and sales channel (highest mean share), main device,
  hour of day (UTC) and weekday (most frequent among members). Revenue and
  margin are the customer 360's net revenue and gross margin to the as-of date.
  What members are worth and typically do comes from int_needs__segment_behaviour.
-#}
with

behaviour as (
    select
        needs_segment_id,
        customers_count,
        revenue,
        gross_margin,
        orders_count,
        average_segment_confidence,
        typical_category,
        typical_category_share,
        typical_channel,
        typical_channel_share,
        typical_device,
        typical_hour_utc,
        typical_weekday
    from {{ ref('int_needs__segment_behaviour') }}
),

centroids as (
    select * from {{ ref('needs_segment_centroids') }}
),

definitions as (
    select * from {{ ref('needs_segment_definitions') }}
),

personas as (
    select * from {{ ref('needs_personas') }}
),

segments as (
    select
        segment_id,
        max(generated_name) as generated_name
    from centroids
    group by segment_id
    union all
    select
        0 as segment_id,
        'unknown' as generated_name
),

first_definitions as (
    select
        segment_id,
        min(first_defined_as_of_date) as first_defined_as_of_date
    from definitions
    group by segment_id
),

overall as (
    select
        sum(customers_count) as customers_count,
        sum(revenue) as revenue,
        sum(gross_margin) as gross_margin
    from behaviour
),

ranked_features as (
    select
        segment_id,
        feature_name,
        center_scaled,
        row_number() over (
            partition by segment_id
            order by abs(center_scaled) desc, feature_name asc
        ) as feature_rank
    from centroids
    where center_scaled is not null
),

distinguishing_features as (
    select
        segment_id,
        {{ dbt.listagg(
            dbt.concat([
                'feature_name',
                "' '",
                "case when center_scaled < 0 then '-' else '+' end",
                'cast(round(abs(center_scaled), 1) as ' ~ dbt.type_string() ~ ')',
                "' sd'",
            ]),
            "', '",
            'order by feature_rank',
        ) }} as distinguishing_features
    from ranked_features
    where feature_rank <= {{ var('needs_profile_top_features', 3) }}
    group by segment_id
),

final as (
    select
        segments.segment_id as needs_segment_id,
        coalesce(personas.persona_name, segments.generated_name) as persona_name,
        personas.persona_description,
        segments.generated_name,
        personas.persona_name is not null as is_persona_name_from_seed,
        {{ as_of_date_literal() }} as as_of_date,
        first_definitions.first_defined_as_of_date,
        coalesce(behaviour.customers_count, 0) as customers_count,
        {{ safe_ratio('coalesce(behaviour.customers_count, 0)', 'overall.customers_count') }} as customer_share,
        coalesce(behaviour.revenue, 0) as revenue,
        {{ safe_ratio('coalesce(behaviour.revenue, 0)', 'overall.revenue') }} as revenue_share,
        coalesce(behaviour.gross_margin, 0) as gross_margin,
        {{ safe_ratio('coalesce(behaviour.gross_margin, 0)', 'overall.gross_margin') }} as margin_share,
        {{ safe_ratio('behaviour.revenue', 'behaviour.customers_count') }} as revenue_per_customer,
        {{ safe_ratio('behaviour.orders_count', 'behaviour.customers_count') }} as orders_per_customer,
        {{ safe_ratio('behaviour.revenue', 'behaviour.orders_count') }} as average_order_value,
        behaviour.average_segment_confidence,
        distinguishing_features.distinguishing_features,
        behaviour.typical_category,
        behaviour.typical_category_share,
        behaviour.typical_channel,
        behaviour.typical_channel_share,
        behaviour.typical_device,
        behaviour.typical_hour_utc,
        behaviour.typical_weekday
    from segments
    cross join overall
    left join personas on segments.segment_id = personas.segment_id
    left join first_definitions on segments.segment_id = first_definitions.segment_id
    left join behaviour on segments.segment_id = behaviour.needs_segment_id
    left join distinguishing_features on segments.segment_id = distinguishing_features.segment_id
)

select * from final
