{{ config(meta={'dagster': {'ref': {'name': 'int_identity__components'}}}) }}
-- Label propagation reached its fixed point: no link joins two nodes with
-- different anchors. If this fails, raise var identity_max_rounds.
select
    from_node.node_id as from_node_id,
    to_node.node_id as to_node_id,
    from_component.anchor_node_id as from_anchor,
    to_component.anchor_node_id as to_anchor
from {{ ref('int_identity__edges') }} as edges
inner join {{ ref('int_identity__nodes') }} as from_node
    on edges.from_node_rank = from_node.node_rank
inner join {{ ref('int_identity__nodes') }} as to_node
    on edges.to_node_rank = to_node.node_rank
inner join {{ ref('int_identity__components') }} as from_component
    on from_node.node_id = from_component.node_id
inner join {{ ref('int_identity__components') }} as to_component
    on to_node.node_id = to_component.node_id
where from_component.anchor_node_id != to_component.anchor_node_id
