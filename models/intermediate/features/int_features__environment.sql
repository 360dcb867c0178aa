{#-
  The environment the person usually browses from: for each attribute, the
  value seen on the most events; a tie goes to the value seen most recently,
  then to the first in alphabetical order, so the answer never depends on
  row order.
-#}
{%- set attributes = [
    ('device_type', 'main_device_type'),
    ('os', 'main_os'),
    ('country_code', 'main_country_code'),
    ('timezone', 'main_timezone'),
] -%}
with

events as (
    select * from {{ ref('int_customer__web_events') }}
),

attribute_values as (
    {%- for column_name, feature_name in attributes %}
        select
            customer_key,
            '{{ feature_name }}' as feature_name,
            {{ column_name }} as feature_value,
            occurred_at
        from events
        where {{ column_name }} is not null
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}
),

value_counts as (
    select
        customer_key,
        feature_name,
        feature_value,
        count(*) as events_count,
        max(occurred_at) as last_seen_at
    from attribute_values
    group by customer_key, feature_name, feature_value
),

ranked_values as (
    select
        customer_key,
        feature_name,
        feature_value,
        row_number() over (
            partition by customer_key, feature_name
            order by events_count desc, last_seen_at desc, feature_value asc
        ) as preference_rank
    from value_counts
),

customers as (
    select distinct customer_key from events
),

pivoted as (
    select
        {%- for column_name, feature_name in attributes %}
            max(case when ranked_values.feature_name = '{{ feature_name }}' then ranked_values.feature_value end)
                as {{ feature_name }},
        {%- endfor %}
        customers.customer_key
    from customers
    left join ranked_values
        on
            customers.customer_key = ranked_values.customer_key
            and ranked_values.preference_rank = 1
    group by customers.customer_key
),

final as (
    select
        customer_key,
        main_device_type,
        main_os,
        main_country_code,
        main_timezone
    from pivoted
)

select * from final
