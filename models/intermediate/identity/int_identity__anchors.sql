{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 2 MiB there. -#}
{{ config(materialized='view') }}
{#-
  The anchor of every identifier that identity resolution keeps: person-graph
  nodes take their component's anchor, except a guest order known only by its
  id, which joins the one person its confirmation cookie belongs to; cookies
  take the anchor int_identity__cookies gave them.
-#}
with

components as (
    select
        node_id,
        anchor_node_id
    from {{ ref('int_identity__components') }}
),

cookies as (
    select
        node_id,
        anchor_node_id,
        linked_persons
    from {{ ref('int_identity__cookies') }}
),

confirmations as (
    select
        node_id,
        linked_node_id
    from {{ ref('int_identity__observations') }}
    where identifier_type = 'anonymous_id' and linked_node_id like 'guest_order:%'
),

adopted_guest_orders as (
    select
        confirmations.linked_node_id as node_id,
        min(cookies.anchor_node_id) as anchor_node_id
    from confirmations
    inner join cookies on confirmations.node_id = cookies.node_id
    where cookies.linked_persons = 1
    group by confirmations.linked_node_id
    -- Two persons claiming one guest order: leave it on its own.
    having count(distinct cookies.anchor_node_id) = 1
),

final as (
    select
        components.node_id,
        coalesce(adopted_guest_orders.anchor_node_id, components.anchor_node_id) as anchor_node_id
    from components
    left join adopted_guest_orders on components.node_id = adopted_guest_orders.node_id

    union all

    select
        node_id,
        anchor_node_id
    from cookies
    where anchor_node_id is not null
)

select * from final
