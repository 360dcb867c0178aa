{{ config(meta={'dagster': {'ref': {'name': 'int_identity__components'}}}) }}
-- Label propagation reached its fixed point: no link joins two nodes with
-- different anchors. If this fails, raise var identity_max_rounds.
select
    edges.from_node_id,
    edges.to_node_id,
    from_component.anchor_node_id as from_anchor,
    to_component.anchor_node_id as to_anchor
from {{ ref('int_identity__edges') }} as edges
inner join {{ ref('int_identity__components') }} as from_component
    on edges.from_node_id = from_component.node_id
inner join {{ ref('int_identity__components') }} as to_component
    on edges.to_node_id = to_component.node_id
where from_component.anchor_node_id != to_component.anchor_node_id
