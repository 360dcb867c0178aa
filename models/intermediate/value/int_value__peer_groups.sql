{#-
  "Similar customers" for cross- and up-sell: buyers who share a dominant
  category (the category of their largest revenue; ties go to the
  alphabetically first) and a value tier. A group with fewer than
  var value_min_peer_group buyers falls back to the dominant category alone,
  so every buyer has a peer group of useful size where the data allows it.
-#}
{%- set min_peers = var('value_min_peer_group', 30) -%}
with

customer_categories as (
    select * from {{ ref('int_value__customer_categories') }}
),

tiers as (
    select * from {{ ref('int_value__customer_tiers') }}
),

ranked_categories as (
    select
        customer_key,
        category,
        row_number() over (partition by customer_key order by revenue desc, category asc) as category_rank
    from customer_categories
),

dominant as (
    select
        ranked_categories.customer_key,
        ranked_categories.category as dominant_category,
        tiers.value_tier
    from ranked_categories
    inner join tiers on ranked_categories.customer_key = tiers.customer_key
    where ranked_categories.category_rank = 1
),

sized as (
    select
        customer_key,
        dominant_category,
        value_tier,
        count(*) over (partition by dominant_category, value_tier) as tier_group_size,
        count(*) over (partition by dominant_category) as category_group_size
    from dominant
),

final as (
    select
        customer_key,
        dominant_category,
        value_tier,
        case
            when tier_group_size >= {{ min_peers }}
                then {{ dbt.concat(['dominant_category', "'|'", 'value_tier']) }}
            else dominant_category
        end as peer_group,
        case
            when tier_group_size >= {{ min_peers }} then tier_group_size
            else category_group_size
        end as peer_group_size
    from sized
)

select * from final
