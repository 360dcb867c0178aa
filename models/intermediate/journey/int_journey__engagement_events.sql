{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 2 MiB there. -#}
{{ config(materialized='view') }}
{#-
  The journey events that come from the customer's contacts with the company
  rather than from the lifecycle: abandoned carts, loyalty joins and leaves,
  complaints opened and resolved, detractor answers and consent withdrawals,
  one row per event of any customer key. journey_events adds the purchase and
  stage events, keeps the known customers and attaches the stage of the day;
  the context columns mean what its YAML says.
-#}
with

sessions as (
    select
        -- The session's id, as journey_events has always shown it (not stored with the sessions).
        {{ dbt.concat(['customer_key', "'-'", as_text('session_number')]) }} as session_id,
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
    from {{ ref('int_customer__consents') }}
),

cart_events as (
    select
        'cart_abandoned' as event_type,
        customer_key,
        ended_at as occurred_at,
        session_id as context_id,
        cast(cart_adds_count as {{ dbt.type_float() }}) as context_value
    from sessions
    where is_cart_abandoned
),

loyalty_joined_events as (
    select
        'loyalty_joined' as event_type,
        customer_key,
        joined_at as occurred_at,
        member_id as context_id,
        tier as context_detail
    from memberships
),

loyalty_left_events as (
    select
        'loyalty_left' as event_type,
        customer_key,
        left_at as occurred_at,
        member_id as context_id,
        tier as context_detail
    from memberships
    where left_at is not null
),

complaints as (
    select
        service_cases.case_id,
        service_cases.customer_key,
        service_cases.contact_channel,
        service_cases.contact_reason,
        service_cases.opened_at,
        service_cases.resolved_at,
        service_cases.satisfaction
    from service_cases
    inner join complaint_reasons on service_cases.contact_reason = complaint_reasons.contact_reason
),

complaint_opened_events as (
    select
        'service_complaint_opened' as event_type,
        customer_key,
        opened_at as occurred_at,
        case_id as context_id,
        contact_channel as context_channel,
        contact_reason as context_detail
    from complaints
),

complaint_resolved_events as (
    select
        'service_complaint_resolved' as event_type,
        customer_key,
        resolved_at as occurred_at,
        case_id as context_id,
        contact_channel as context_channel,
        contact_reason as context_detail,
        cast(satisfaction as {{ dbt.type_float() }}) as context_value
    from complaints
    where resolved_at is not null
),

detractor_events as (
    select
        'nps_detractor' as event_type,
        customer_key,
        answered_at as occurred_at,
        response_id as context_id,
        touchpoint as context_detail,
        cast(nps_score as {{ dbt.type_float() }}) as context_value
    from survey_responses
    where nps_category = 'detractor'
),

consent_events as (
    select
        'consent_withdrawn' as event_type,
        customer_key,
        changed_at as occurred_at,
        consent_change_id as context_id,
        channel as context_channel,
        change_source as context_detail
    from consent_changes
    where not is_granted and was_granted
),

-- Each event type names the context it has (macros/sql/union_padded.sql).
final as (
    {{ journey_event_union({
        'cart_events': ['context_value'],
        'loyalty_joined_events': ['context_detail'],
        'loyalty_left_events': ['context_detail'],
        'complaint_opened_events': ['context_channel', 'context_detail'],
        'complaint_resolved_events': ['context_channel', 'context_detail', 'context_value'],
        'detractor_events': ['context_detail', 'context_value'],
        'consent_events': ['context_channel', 'context_detail'],
    }) }}
)

select * from final
