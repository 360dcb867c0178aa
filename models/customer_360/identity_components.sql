{#- One row per resolved customer (graph component): what it is made of, and a
    flag for components too large to be one person, for someone to look at. -#}
with

identity_map as (
    select * from {{ ref('identity_map') }}
),

final as (
    select
        customer_key,
        min(anchor_node_id) as anchor_node_id,
        max(case when is_known_customer then 1 else 0 end) = 1 as is_known_customer,
        count(*) as identifiers,
        sum(case when identifier_type = 'customer_id' then 1 else 0 end) as shop_accounts,
        sum(case when identifier_type = 'email' then 1 else 0 end) as emails,
        sum(case when identifier_type = 'phone' then 1 else 0 end) as phones,
        sum(case when identifier_type = 'anonymous_id' then 1 else 0 end) as cookies,
        sum(case when identifier_type = 'member_id' then 1 else 0 end) as memberships,
        sum(case when identifier_type = 'guest_order' then 1 else 0 end) as guest_orders_without_email,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from identity_map
    group by customer_key
)

select
    *,
    shop_accounts > {{ var('identity_max_accounts_per_person', 3) }}
    or cookies > {{ var('identity_max_cookies_per_person', 10) }} as is_oversized
from final
