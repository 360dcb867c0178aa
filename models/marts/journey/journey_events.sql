{#-
  The moments that trigger communication, one row per event of a known
  customer up to the as-of date (event types: seed journey_event_types).
  Each row carries the customer's lifecycle stage on the event's day (after
  the event: a first purchase is an event of a 'new' customer) and its
  context: the id of the row it came from, a channel, a detail and a value,
  whose meaning per event type is in the seed and the model's YAML. The
  events from contacts (carts, loyalty, complaints, NPS, consents) come from
  int_journey__engagement_events; purchases and stage changes are made here.
-#}
with

customers as (
    select customer_key
    from {{ ref('customer_360') }}
),

purchase_days as (
    select
        customer_key,
        purchase_date,
        purchase_number,
        first_order_id,
        first_ordered_at
    from {{ ref('int_journey__purchase_days') }}
),

orders as (
    select
        order_id,
        channel,
        net_amount
    from {{ ref('int_customer__orders') }}
),

spells as (
    select
        spell_id,
        customer_key,
        lifecycle_stage,
        previous_stage,
        valid_from,
        valid_to
    from {{ ref('customer_lifecycle_history') }}
),

engagement_events as (
    select
        event_type,
        customer_key,
        occurred_at,
        context_id,
        context_channel,
        context_detail,
        context_value,
        from_stage,
        to_stage
    from {{ ref('int_journey__engagement_events') }}
),

purchase_events as (
    select
        case purchase_days.purchase_number when 1 then 'first_purchase' else 'second_purchase' end as event_type,
        purchase_days.customer_key,
        purchase_days.first_ordered_at as occurred_at,
        purchase_days.first_order_id as context_id,
        orders.channel as context_channel,
        cast(orders.net_amount as {{ dbt.type_float() }}) as context_value
    from purchase_days
    inner join orders on purchase_days.first_order_id = orders.order_id
    where purchase_days.purchase_number <= 2
),

-- A stage change driven by a purchase happens at the order's time; one
-- driven by the passing of time at the start of its day.
stage_events as (
    select
        'stage_changed' as event_type,
        spells.customer_key,
        coalesce(purchase_days.first_ordered_at, cast(spells.valid_from as {{ dbt.type_timestamp() }})) as occurred_at,
        spells.spell_id as context_id,
        {{ dbt.concat(['spells.previous_stage', "' -> '", 'spells.lifecycle_stage']) }} as context_detail,
        spells.previous_stage as from_stage,
        spells.lifecycle_stage as to_stage
    from spells
    left join purchase_days
        on
            spells.customer_key = purchase_days.customer_key
            and spells.valid_from = purchase_days.purchase_date
    where spells.previous_stage is not null
),

-- Each event type names the context it has (macros/sql/union_padded.sql).
events as (
    {{ journey_event_union({
        'purchase_events': ['context_channel', 'context_value'],
        'stage_events': ['context_detail', 'from_stage', 'to_stage'],
        'engagement_events': ['context_channel', 'context_detail', 'context_value', 'from_stage', 'to_stage'],
    }) }}
),

final as (
    select
        {{ dbt.hash(dbt.concat(['events.event_type', "'|'", 'events.context_id'])) }} as event_id,
        events.customer_key,
        events.event_type,
        events.occurred_at,
        cast(events.occurred_at as date) as event_date,
        spells.lifecycle_stage,
        events.context_id,
        events.context_channel,
        events.context_detail,
        events.context_value,
        events.from_stage,
        events.to_stage
    from events
    inner join customers on events.customer_key = customers.customer_key
    left join spells
        on
            events.customer_key = spells.customer_key
            and {{ journey_in_spell('cast(events.occurred_at as date)') }}
)

-- Lean storage (docs/scale.md): several rows per customer, written in customer_key order so
-- each stored block holds few keys and compresses them.
select * from final
order by customer_key, occurred_at
