{#- Links of the person graph (accounts, emails, phones, member ids, guest
    orders) in both directions, plus a self-link per node so one join per
    round carries a node's own label. Cookies are not in it. -#}
with

observations as (
    select
        node_id,
        linked_node_id
    from {{ ref('int_identity__observations') }}
    where identifier_type != 'anonymous_id' and linked_node_id is not null and linked_node_id != node_id
),

used as (
    select node_id from {{ ref('int_identity__identifiers') }}
    where is_used and identifier_type != 'anonymous_id'
),

links as (
    select distinct
        observations.node_id as from_node_id,
        observations.linked_node_id as to_node_id
    from observations
    inner join used as used_from on observations.node_id = used_from.node_id
    inner join used as used_to on observations.linked_node_id = used_to.node_id
),

final as (
    select
        from_node_id,
        to_node_id
    from links
    union all
    select
        to_node_id,
        from_node_id
    from links
    union all
    select
        node_id as from_node_id,
        node_id as to_node_id
    from used
)

select distinct
    from_node_id,
    to_node_id
from final
