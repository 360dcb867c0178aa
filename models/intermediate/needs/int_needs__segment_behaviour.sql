{#-
  What the members of each needs segment are worth and typically do, one row
  per segment with members: their number, revenue, gross margin and orders
  (customer_360, to the as-of date), the mean segment confidence, the leading
  category and sales channel (highest mean share among members) and the main
  device, hour of day (UTC) and weekday (most frequent among members; ties by
  name). needs_segment_profiles puts them beside the segment's persona.
-#}
{%- set categories = feature_categories() -%}
{%- set channels = feature_sales_channels() -%}
{#- Share columns: kind, value, column. -#}
{%- set share_columns = [] -%}
{%- for category in categories -%}
    {%- do share_columns.append(('category', category, 'category_share_' ~ feature_column_suffix(category))) -%}
{%- endfor -%}
{%- for channel in channels -%}
    {%- do share_columns.append(('channel', channel, 'channel_share_' ~ feature_column_suffix(channel))) -%}
{%- endfor -%}
{#- Habits: name, the member column, its value as text. -#}
{%- set habits = [
    ('device', 'main_device_type', 'main_device_type'),
    ('hour', 'preferred_hour_utc', 'cast(preferred_hour_utc as ' ~ dbt.type_string() ~ ')'),
    ('weekday', 'preferred_weekday', 'preferred_weekday'),
] -%}
with

customer_needs as (
    select * from {{ ref('customer_needs') }}
),

customers as (
    select * from {{ ref('customer_360') }}
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
            {{ exact_avg('channel_share_' ~ feature_column_suffix(channel)) }}
                as channel_share_{{ feature_column_suffix(channel) }},
        {%- endfor %}
        {%- for category in categories %}
            {{ exact_avg('category_share_' ~ feature_column_suffix(category)) }}
                as category_share_{{ feature_column_suffix(category) }},
        {%- endfor %}
        needs_segment_id,
        count(*) as customers_count,
        sum(net_revenue) as revenue,
        sum(gross_margin) as gross_margin,
        sum(orders_count) as orders_count,
        {{ exact_avg('segment_confidence') }} as average_segment_confidence
    from members
    group by needs_segment_id
),

mean_shares as (
    {%- for kind, value, column in share_columns %}
        select
            needs_segment_id,
            '{{ kind }}' as share_kind,
            '{{ value }}' as share_value,
            {{ column }} as mean_share
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
    {%- for habit, column, value in habits %}
        select
            needs_segment_id,
            '{{ habit }}' as habit,
            {{ value }} as habit_value,
            count(*) as members_count
        from members
        where {{ column }} is not null
        group by needs_segment_id, {{ column }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
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

typical_shares as (
    select
        {%- for kind in ['category', 'channel'] %}
            max(case when share_kind = '{{ kind }}' then share_value end) as typical_{{ kind }},
            max(case when share_kind = '{{ kind }}' then mean_share end) as typical_{{ kind }}_share,
        {%- endfor %}
        needs_segment_id
    from ranked_shares
    where share_rank = 1
    group by needs_segment_id
),

typical_habits as (
    select
        needs_segment_id,
        max(case when habit = 'device' then habit_value end) as typical_device,
        cast(max(case when habit = 'hour' then habit_value end) as {{ dbt.type_int() }}) as typical_hour_utc,
        max(case when habit = 'weekday' then habit_value end) as typical_weekday
    from ranked_habits
    where habit_rank = 1
    group by needs_segment_id
),

final as (
    select
        segment_totals.needs_segment_id,
        segment_totals.customers_count,
        segment_totals.revenue,
        segment_totals.gross_margin,
        segment_totals.orders_count,
        segment_totals.average_segment_confidence,
        typical_shares.typical_category,
        typical_shares.typical_category_share,
        typical_shares.typical_channel,
        typical_shares.typical_channel_share,
        typical_habits.typical_device,
        typical_habits.typical_hour_utc,
        typical_habits.typical_weekday
    from segment_totals
    left join typical_shares on segment_totals.needs_segment_id = typical_shares.needs_segment_id
    left join typical_habits on segment_totals.needs_segment_id = typical_habits.needs_segment_id
)

select * from final
