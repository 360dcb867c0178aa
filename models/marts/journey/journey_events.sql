{#-
  The moments that trigger communication, one row per event of a known
  customer up to the as-of date (event types: seed journey_event_types).
  Each row carries the customer's lifecycle stage on the event's day (after
  the event: a first purchase is an event of a 'new' customer) and its
  context: the id of the row it came from, a channel, a detail and a value,
  whose meaning per event type is in the seed and the model's YAML.
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

sessions as (
    select
        session_id,
        customer_key,
        ended_at,
        cart_adds_count,
        is_cart_abandoned
    from {{ ref('int_customer__web_sessions') }}
),

memberships as (
    select
        member_id,
        customer_key,
        tier,
        joined_at,
        left_at
    from {{ ref('int_customer__loyalty_memberships') }}
),

service_cases as (
    select
        case_id,
        customer_key,
        contact_channel,
        contact_reason,
        opened_at,
        resolved_at,
        satisfaction
    from {{ ref('int_customer__service_cases') }}
),

complaint_reasons as (
    select contact_reason
    from {{ ref('journey_complaint_reasons') }}
    where is_complaint
),

survey_responses as (
    select
        response_id,
        customer_key,
        nps_score,
        nps_category,
        touchpoint,
        answered_at
    from {{ ref('int_customer__survey_responses') }}
),

consents as (
    select
        consent_change_id,
        customer_key,
        channel,
        is_granted,
        changed_at,
        change_source
    from {{ ref('int_customer__consents') }}
),

purchase_events as (
    select
        case purchase_days.purchase_number when 1 then 'first_purchase' else 'second_purchase' end as event_type,
        purchase_days.customer_key,
        purchase_days.first_ordered_at as occurred_at,
        purchase_days.first_order_id as context_id,
        orders.channel as context_channel,
        cast(null as {{ dbt.type_string() }}) as context_detail,
        cast(orders.net_amount as {{ dbt.type_float() }}) as context_value,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        cast(null as {{ dbt.type_string() }}) as to_stage
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
        cast(null as {{ dbt.type_string() }}) as context_channel,
        {{ dbt.concat(['spells.previous_stage', "' -> '", 'spells.lifecycle_stage']) }} as context_detail,
        cast(null as {{ dbt.type_float() }}) as context_value,
        spells.previous_stage as from_stage,
        spells.lifecycle_stage as to_stage
    from spells
    left join purchase_days
        on
            spells.customer_key = purchase_days.customer_key
            and spells.valid_from = purchase_days.purchase_date
    where spells.previous_stage is not null
),

cart_events as (
    select
        'cart_abandoned' as event_type,
        customer_key,
        ended_at as occurred_at,
        session_id as context_id,
        cast(null as {{ dbt.type_string() }}) as context_channel,
        cast(null as {{ dbt.type_string() }}) as context_detail,
        cast(cart_adds_count as {{ dbt.type_float() }}) as context_value,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        cast(null as {{ dbt.type_string() }}) as to_stage
    from sessions
    where is_cart_abandoned
),

loyalty_events as (
    select
        'loyalty_joined' as event_type,
        customer_key,
        joined_at as occurred_at,
        member_id as context_id,
        cast(null as {{ dbt.type_string() }}) as context_channel,
        tier as context_detail,
        cast(null as {{ dbt.type_float() }}) as context_value,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        cast(null as {{ dbt.type_string() }}) as to_stage
    from memberships
    union all
    select
        'loyalty_left' as event_type,
        customer_key,
        left_at as occurred_at,
        member_id as context_id,
        cast(null as {{ dbt.type_string() }}) as context_channel,
        tier as context_detail,
        cast(null as {{ dbt.type_float() }}) as context_value,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        cast(null as {{ dbt.type_string() }}) as to_stage
    from memberships
    where left_at is not null
),

complaint_events as (
    select
        'service_complaint_opened' as event_type,
        service_cases.customer_key,
        service_cases.opened_at as occurred_at,
        service_cases.case_id as context_id,
        service_cases.contact_channel as context_channel,
        service_cases.contact_reason as context_detail,
        cast(null as {{ dbt.type_float() }}) as context_value,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        cast(null as {{ dbt.type_string() }}) as to_stage
    from service_cases
    inner join complaint_reasons on service_cases.contact_reason = complaint_reasons.contact_reason
    union all
    select
        'service_complaint_resolved' as event_type,
        service_cases.customer_key,
        service_cases.resolved_at as occurred_at,
        service_cases.case_id as context_id,
        service_cases.contact_channel as context_channel,
        service_cases.contact_reason as context_detail,
        cast(service_cases.satisfaction as {{ dbt.type_float() }}) as context_value,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        cast(null as {{ dbt.type_string() }}) as to_stage
    from service_cases
    inner join complaint_reasons on service_cases.contact_reason = complaint_reasons.contact_reason
    where service_cases.resolved_at is not null
),

detractor_events as (
    select
        'nps_detractor' as event_type,
        customer_key,
        answered_at as occurred_at,
        response_id as context_id,
        cast(null as {{ dbt.type_string() }}) as context_channel,
        touchpoint as context_detail,
        cast(nps_score as {{ dbt.type_float() }}) as context_value,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        cast(null as {{ dbt.type_string() }}) as to_stage
    from survey_responses
    where nps_category = 'detractor'
),

-- The state of a channel before each change, across all the person's
-- accounts; at the same instant a grant sorts before a withdrawal.
consent_changes as (
    select
        consent_change_id,
        customer_key,
        channel,
        is_granted,
        changed_at,
        change_source,
        lag(is_granted) over (
            partition by customer_key, channel
            order by changed_at, case when is_granted then 0 else 1 end, consent_change_id
        ) as was_granted
    from consents
),

consent_events as (
    select
        'consent_withdrawn' as event_type,
        customer_key,
        changed_at as occurred_at,
        consent_change_id as context_id,
        channel as context_channel,
        change_source as context_detail,
        cast(null as {{ dbt.type_float() }}) as context_value,
        cast(null as {{ dbt.type_string() }}) as from_stage,
        cast(null as {{ dbt.type_string() }}) as to_stage
    from consent_changes
    where not is_granted and was_granted
),

events as (
    {%- for relation in [
        'purchase_events', 'stage_events', 'cart_events', 'loyalty_events',
        'complaint_events', 'detractor_events', 'consent_events',
    ] %}
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
        from {{ relation }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
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
            and cast(events.occurred_at as date) >= spells.valid_from
            and (spells.valid_to is null or cast(events.occurred_at as date) < spells.valid_to)
)

select * from final
