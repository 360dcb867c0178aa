{#-
  The values that become one column each in the customer 360 and the needs
  features, read from the data rather than fixed in code: the product
  categories that bring the most net revenue (var feature_category_count of
  them; the rest count as 'other'), the sales channel groups, the consent
  channels and the web device types, each ranked by how often it occurs.
  A var (feature_categories, feature_sales_channels, feature_consent_channels,
  needs_device_types) set to a list replaces the data's choice.
  Missing values ('unknown') never get a column: they are the other bucket.
-#}
with

order_lines as (
    select * from {{ ref('int_customer__order_lines') }}
    where not is_cancelled
),

orders as (
    select * from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

consents as (
    select * from {{ ref('int_customer__consents') }}
),

web_events as (
    select * from {{ ref('int_customer__web_events') }}
),

occurrences as (
    select
        'category' as vocabulary,
        category as vocabulary_value,
        sum(net_amount) as weight
    from order_lines
    where category is not null and category <> 'unknown'
    group by category

    union all

    select
        'sales_channel' as vocabulary,
        channel as vocabulary_value,
        count(*) as weight
    from orders
    where channel is not null and channel <> 'unknown'
    group by channel

    union all

    select
        'consent_channel' as vocabulary,
        channel as vocabulary_value,
        count(*) as weight
    from consents
    where channel is not null
    group by channel

    union all

    select
        'device_type' as vocabulary,
        lower(device_type) as vocabulary_value,
        count(*) as weight
    from web_events
    where device_type is not null
    group by lower(device_type)
),

final as (
    select
        {{ dbt.concat(['vocabulary', "':'", 'vocabulary_value']) }} as vocabulary_entry_id,
        vocabulary,
        vocabulary_value,
        weight,
        row_number() over (partition by vocabulary order by weight desc, vocabulary_value asc) as value_rank
    from occurrences
)

select * from final
