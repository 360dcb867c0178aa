{#-
  Persons as connected components of the person graph (cookies attach
  afterwards), by label propagation in portable SQL. Nodes are numbered in
  anchor order (int_identity__nodes: earliest seen first); each round a node
  takes the smallest number among itself and its neighbours, so at the fixed
  point every node of a component carries its earliest-seen identifier. New
  data only adds later identifiers, so the anchor, and the customer_key made
  from it, stays put unless two components merge. The round count is a var;
  the test assert_identity_components_converged fails if it was not enough.
-#}
{%- set rounds = var('identity_max_rounds', 12) | int %}

with

edges as (
    select
        from_node_rank,
        to_node_rank
    from {{ ref('int_identity__edges') }}
),

nodes as (
    select
        node_id,
        node_rank
    from {{ ref('int_identity__nodes') }}
),

round_0 as (
    select
        node_rank,
        node_rank as anchor_rank
    from nodes
),
{%- for round in range(1, rounds + 1) %}

    round_{{ round }} as (
        select
            edges.from_node_rank as node_rank,
            min(round_{{ round - 1 }}.anchor_rank) as anchor_rank
        from edges
        inner join round_{{ round - 1 }} on edges.to_node_rank = round_{{ round - 1 }}.node_rank
        group by edges.from_node_rank
    ){{ "," if not loop.last }}
{%- endfor %}

select
    nodes.node_id,
    anchors.node_id as anchor_node_id
from round_{{ rounds }}
inner join nodes on round_{{ rounds }}.node_rank = nodes.node_rank
inner join nodes as anchors on round_{{ rounds }}.anchor_rank = anchors.node_rank
