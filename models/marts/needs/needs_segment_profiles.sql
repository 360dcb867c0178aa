{#-
  One readable profile per needs segment (and the cold-start segment 0): its
  persona, size, share of customers, revenue and gross margin, the features
  that set its centroid furthest from the average customer (in standard
  deviations of the fitting sample), and what its members typically do:
  leading category and sales channel (highest mean share), main device,
  hour of day (UTC) and weekday (most frequent among members). Revenue and
  margin are the customer 360's net revenue and gross margin to the as-of date.
-#}
{%- set categories = feature_categories() -%}
{%- set channels = feature_sales_channels() -%}
with

customer_needs as (
    select * from {{ ref('customer_needs') }}
),

customers as (
    select * from {{ ref('customer_360') }}
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

members as (
    select
        {%- for channel in channels %}
            customers.channel_share_{{ feature_column_suffix(channel) }},
        {%- endfor %}
        {%- for category in categories %}
            customers.category_share_{{ feature_column_suffix(category) }},
        {%- endfor %}
        customer_needs.needs_segment_id,
        customer_needs.segment_confidence,
        customers.net_revenue,
        customers.gross_margin,
        customers.orders_count,
        customers.main_device_type,
        customers.preferred_hour_utc,
        customers.preferred_weekday
    from customer_needs
    inner join customers on customer_needs.customer_key = customers.customer_key
),

segment_totals as (
    select
        {%- for channel in channels %}
            avg(channel_share_{{ feature_column_suffix(channel) }})
                as channel_share_{{ feature_column_suffix(channel) }},
        {%- endfor %}
        {%- for category in categories %}
            avg(category_share_{{ feature_column_suffix(category) }})
                as category_share_{{ feature_column_suffix(category) }},
        {%- endfor %}
        needs_segment_id,
        count(*) as customers_count,
        sum(net_revenue) as revenue,
        sum(gross_margin) as gross_margin,
        sum(orders_count) as orders_count,
        avg(segment_confidence) as average_segment_confidence
    from members
    group by needs_segment_id
),

overall as (
    select
        count(*) as customers_count,
        sum(net_revenue) as revenue,
        sum(gross_margin) as gross_margin
    from members
),

mean_shares as (
    {%- for category in categories %}
        select
            needs_segment_id,
            'category' as share_kind,
            '{{ category }}' as share_value,
            category_share_{{ feature_column_suffix(category) }} as mean_share
        from segment_totals
        union all
    {%- endfor %}
    {%- for channel in channels %}
        select
            needs_segment_id,
            'channel' as share_kind,
            '{{ channel }}' as share_value,
            channel_share_{{ feature_column_suffix(channel) }} as mean_share
        from segment_totals
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

ranked_shares as (
    select
        needs_segment_id,
        share_kind,
        share_value,
        mean_share,
        row_number() over (
            partition by needs_segment_id, share_kind
            order by mean_share desc, share_value asc
        ) as share_rank
    from mean_shares
    where mean_share is not null
),

habit_counts as (
    select
        needs_segment_id,
        'device' as habit,
        main_device_type as habit_value,
        count(*) as members_count
    from members
    where main_device_type is not null
    group by needs_segment_id, main_device_type
    union all
    select
        needs_segment_id,
        'hour' as habit,
        cast(preferred_hour_utc as {{ dbt.type_string() }}) as habit_value,
        count(*) as members_count
    from members
    where preferred_hour_utc is not null
    group by needs_segment_id, preferred_hour_utc
    union all
    select
        needs_segment_id,
        'weekday' as habit,
        preferred_weekday as habit_value,
        count(*) as members_count
    from members
    where preferred_weekday is not null
    group by needs_segment_id, preferred_weekday
),

ranked_habits as (
    select
        needs_segment_id,
        habit,
        habit_value,
        row_number() over (
            partition by needs_segment_id, habit
            order by members_count desc, habit_value asc
        ) as habit_rank
    from habit_counts
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
        coalesce(segment_totals.customers_count, 0) as customers_count,
        {{ safe_ratio('coalesce(segment_totals.customers_count, 0)', 'overall.customers_count') }} as customer_share,
        coalesce(segment_totals.revenue, 0) as revenue,
        {{ safe_ratio('coalesce(segment_totals.revenue, 0)', 'overall.revenue') }} as revenue_share,
        coalesce(segment_totals.gross_margin, 0) as gross_margin,
        {{ safe_ratio('coalesce(segment_totals.gross_margin, 0)', 'overall.gross_margin') }} as margin_share,
        {{ safe_ratio('segment_totals.revenue', 'segment_totals.customers_count') }} as revenue_per_customer,
        {{ safe_ratio('segment_totals.orders_count', 'segment_totals.customers_count') }} as orders_per_customer,
        {{ safe_ratio('segment_totals.revenue', 'segment_totals.orders_count') }} as average_order_value,
        segment_totals.average_segment_confidence,
        distinguishing_features.distinguishing_features,
        top_category.share_value as typical_category,
        top_category.mean_share as typical_category_share,
        top_channel.share_value as typical_channel,
        top_channel.mean_share as typical_channel_share,
        top_device.habit_value as typical_device,
        cast(top_hour.habit_value as {{ dbt.type_int() }}) as typical_hour_utc,
        top_weekday.habit_value as typical_weekday
    from segments
    cross join overall
    left join personas on segments.segment_id = personas.segment_id
    left join first_definitions on segments.segment_id = first_definitions.segment_id
    left join segment_totals on segments.segment_id = segment_totals.needs_segment_id
    left join distinguishing_features on segments.segment_id = distinguishing_features.segment_id
    left join ranked_shares as top_category
        on
            segments.segment_id = top_category.needs_segment_id
            and top_category.share_kind = 'category'
            and top_category.share_rank = 1
    left join ranked_shares as top_channel
        on
            segments.segment_id = top_channel.needs_segment_id
            and top_channel.share_kind = 'channel'
            and top_channel.share_rank = 1
    left join ranked_habits as top_device
        on
            segments.segment_id = top_device.needs_segment_id
            and top_device.habit = 'device'
            and top_device.habit_rank = 1
    left join ranked_habits as top_hour
        on
            segments.segment_id = top_hour.needs_segment_id
            and top_hour.habit = 'hour'
            and top_hour.habit_rank = 1
    left join ranked_habits as top_weekday
        on
            segments.segment_id = top_weekday.needs_segment_id
            and top_weekday.habit = 'weekday'
            and top_weekday.habit_rank = 1
)

select * from final
