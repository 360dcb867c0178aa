{#-
  Cookies attach to the person their logins and order confirmations point
  to. A cookie pointing to two or more persons is a shared device (a family
  tablet): it attaches to nobody rather than merge a household. A cookie
  pointing to nobody is an anonymous visitor of its own. Guest orders known
  only by their order id (no usable email) are weak persons: they do not
  make a cookie shared; int_identity__anchors lets them join the cookie's person.
-#}
with

observations as (
    select
        node_id,
        linked_node_id
    from {{ ref('int_identity__observations') }}
    where identifier_type = 'anonymous_id'
),

cookies as (
    select
        node_id,
        first_seen_at
    from {{ ref('int_identity__identifiers') }}
    where identifier_type = 'anonymous_id' and is_used
),

components as (
    select
        node_id,
        anchor_node_id
    from {{ ref('int_identity__components') }}
),

persons_seen as (
    select
        observations.node_id,
        count(distinct case
            when components.anchor_node_id not like 'guest_order:%' then components.anchor_node_id
        end) as linked_persons,
        min(case
            when components.anchor_node_id not like 'guest_order:%' then components.anchor_node_id
        end) as linked_person_anchor,
        count(distinct case
            when components.anchor_node_id like 'guest_order:%' then components.anchor_node_id
        end) as linked_guest_orders,
        min(case
            when components.anchor_node_id like 'guest_order:%' then components.anchor_node_id
        end) as linked_guest_order_anchor
    from observations
    inner join components on observations.linked_node_id = components.node_id
    group by observations.node_id
),

final as (
    select
        cookies.node_id,
        coalesce(persons_seen.linked_persons, 0) as linked_persons,
        coalesce(persons_seen.linked_guest_orders, 0) as linked_guest_orders,
        coalesce(persons_seen.linked_persons, 0) > 1
        or (coalesce(persons_seen.linked_persons, 0) = 0 and coalesce(persons_seen.linked_guest_orders, 0) > 1)
            as is_shared_device,
        case
            when persons_seen.linked_persons = 1 then persons_seen.linked_person_anchor
            when persons_seen.linked_persons = 0 and persons_seen.linked_guest_orders = 1
                then persons_seen.linked_guest_order_anchor
            when persons_seen.node_id is null then cookies.node_id
        end as anchor_node_id
    from cookies
    left join persons_seen on cookies.node_id = persons_seen.node_id
)

select * from final
