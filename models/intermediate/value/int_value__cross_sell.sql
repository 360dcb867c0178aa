{#-
  Cross-sell potential per buyer: among the categories the customer has never
  bought, the one with the largest expected gross margin, where
  expected margin = peer penetration x peer margin:
  - peer penetration: share of the customer's peer group (int_value__peer_groups)
    active in the last cross_sell_window_days who bought the category then;
  - peer margin: the mean gross margin (revenue - cost - refunds) those buyers
    made on the category over the same window.
  So it is the yearly margin (for the default 365-day window) to expect if the
  customer took to the category as their peers do. Ties go to the
  alphabetically first category; no row when no candidate has a positive
  expected margin.
-#}
with

customer_categories as (
    select * from {{ ref('int_value__customer_categories') }}
),

peer_groups as (
    select * from {{ ref('int_value__peer_groups') }}
),

window_activity as (
    select
        customer_key,
        category,
        window_gross_margin
    from customer_categories
    where window_revenue > 0
),

active_peers as (
    select
        peer_groups.peer_group,
        count(distinct window_activity.customer_key) as active_customers
    from window_activity
    inner join peer_groups on window_activity.customer_key = peer_groups.customer_key
    group by peer_groups.peer_group
),

peer_categories as (
    select
        peer_groups.peer_group,
        window_activity.category,
        count(*) as buyers,
        avg(window_activity.window_gross_margin) as margin_per_buyer
    from window_activity
    inner join peer_groups on window_activity.customer_key = peer_groups.customer_key
    group by peer_groups.peer_group, window_activity.category
),

peer_potential as (
    select
        peer_categories.peer_group,
        peer_categories.category,
        {{ safe_ratio('peer_categories.buyers', 'active_peers.active_customers') }} as peer_penetration,
        peer_categories.margin_per_buyer
    from peer_categories
    inner join active_peers on peer_categories.peer_group = active_peers.peer_group
),

candidates as (
    select
        peer_groups.customer_key,
        peer_potential.category,
        peer_potential.peer_penetration,
        peer_potential.peer_penetration * peer_potential.margin_per_buyer as expected_margin
    from peer_groups
    inner join peer_potential on peer_groups.peer_group = peer_potential.peer_group
    left join customer_categories
        on
            peer_groups.customer_key = customer_categories.customer_key
            and peer_potential.category = customer_categories.category
    where
        customer_categories.customer_key is null
        and peer_potential.category != 'unknown'
        and peer_potential.peer_penetration * peer_potential.margin_per_buyer > 0
),

ranked as (
    select
        customer_key,
        category,
        peer_penetration,
        expected_margin,
        row_number() over (partition by customer_key order by expected_margin desc, category asc) as candidate_rank
    from candidates
),

final as (
    select
        customer_key,
        category as cross_sell_category,
        expected_margin as cross_sell_expected_margin,
        peer_penetration as cross_sell_peer_penetration
    from ranked
    where candidate_rank = 1
)

select * from final
