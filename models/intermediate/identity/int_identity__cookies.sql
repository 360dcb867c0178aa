{#-
  Cookies attach to the person their logins and order confirmations point
  to. A cookie pointing to two or more persons is a shared device (a family
  tablet): it attaches to nobody rather than merge a household. A cookie
  pointing to nobody is an anonymous visitor of its own.
-#}
with

observations as (
    select node_id, linked_node_id from {{ ref('int_identity__observations') }}
    where identifier_type = 'anonymous_id'
),

cookies as (
    select node_id, first_seen_at from {{ ref('int_identity__identifiers') }}
    where identifier_type = 'anonymous_id' and is_used
),

components as (
    select node_id, anchor_node_id from {{ ref('int_identity__components') }}
),

persons_seen as (
    select
        observations.node_id,
        count(distinct components.anchor_node_id) as linked_persons,
        min(components.anchor_node_id) as linked_anchor_node_id
    from observations
    inner join components on observations.linked_node_id = components.node_id
    group by observations.node_id
),

final as (
    select
        cookies.node_id,
        coalesce(persons_seen.linked_persons, 0) as linked_persons,
        coalesce(persons_seen.linked_persons, 0) > 1 as is_shared_device,
        case
            when persons_seen.linked_persons = 1 then persons_seen.linked_anchor_node_id
            when persons_seen.linked_persons is null then cookies.node_id
        end as anchor_node_id
    from cookies
    left join persons_seen on cookies.node_id = persons_seen.node_id
)

select * from final
