{#-
  Persons as connected components of the person graph (cookies attach
  afterwards), by label propagation in portable SQL. Each node
  starts with its own anchor key: first_seen_at, then type priority, then
  node id, as one sortable text. Each round a node takes the smallest key
  among itself and its neighbours, so at the fixed point every node of a
  component carries the key of its earliest-seen identifier. New data only
  adds later identifiers, so the anchor, and the customer_key made from it,
  stays put unless two components merge. The round count is a var; the test
  assert_identity_components_converged fails if it was not enough.
-#}
{%- set rounds = var('identity_max_rounds', 12) | int %}

with

edges as (
    select
        from_node_id,
        to_node_id
    from {{ ref('int_identity__edges') }}
),

nodes as (
    select
        node_id,
        -- Timestamps as ISO text sort in time order; priorities are single digits.
        {{ dbt.concat([
            "coalesce(" ~ as_text('first_seen_at') ~ ", '9999')", "'|'", as_text('priority'), "'|'", 'node_id'
        ]) }} as anchor_sort_key
    from {{ ref('int_identity__identifiers') }}
    where is_used and identifier_type != 'anonymous_id'
),

round_0 as (
    select
        node_id,
        anchor_sort_key
    from nodes
),
{%- for round in range(1, rounds + 1) %}

    round_{{ round }} as (
        select
            edges.from_node_id as node_id,
            min(round_{{ round - 1 }}.anchor_sort_key) as anchor_sort_key
        from edges
        inner join round_{{ round - 1 }} on edges.to_node_id = round_{{ round - 1 }}.node_id
        group by edges.from_node_id
    ){{ "," if not loop.last }}
{%- endfor %}

select
    round_{{ rounds }}.node_id,
    anchors.node_id as anchor_node_id,
    round_{{ rounds }}.anchor_sort_key
from round_{{ rounds }}
inner join nodes as anchors on round_{{ rounds }}.anchor_sort_key = anchors.anchor_sort_key
