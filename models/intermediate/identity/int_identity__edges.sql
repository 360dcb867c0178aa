{#- Links of the person graph (accounts, emails, phones, member ids, guest
    orders) in both directions, plus a self-link per node so one join per
    round carries a node's own label. Cookies are not in it. Node numbers only
    (int_identity__nodes maps them to identifiers): label propagation joins on
    them, and the identifiers as text were most of this table's bytes (docs/scale.md). -#}
with

observations as (
    select
        node_id,
        linked_node_id
    from {{ ref('int_identity__observations') }}
    where identifier_type != 'anonymous_id' and linked_node_id is not null and linked_node_id != node_id
),

nodes as (
    select
        node_id,
        node_rank
    from {{ ref('int_identity__nodes') }}
),

links as (
    select distinct
        from_node.node_id as from_node_id,
        from_node.node_rank as from_node_rank,
        to_node.node_id as to_node_id,
        to_node.node_rank as to_node_rank
    from observations
    inner join nodes as from_node on observations.node_id = from_node.node_id
    inner join nodes as to_node on observations.linked_node_id = to_node.node_id
),

final as (
    select
        from_node_rank,
        to_node_rank
    from links
    union all
    select
        to_node_rank as from_node_rank,
        from_node_rank as to_node_rank
    from links
    union all
    select
        node_rank as from_node_rank,
        node_rank as to_node_rank
    from nodes
)

select distinct
    from_node_rank,
    to_node_rank
from final
