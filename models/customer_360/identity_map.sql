{#- Identifier -> customer_key: the one key every later layer joins on.
    Shared devices and blocklisted or shared identifiers are absent. -#}
with

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
    where is_used
),

anchors as (
    select
        node_id,
        anchor_node_id
    from {{ ref('int_identity__anchors') }}
),

keyed as (
    select
        identifiers.node_id,
        identifiers.identifier_type,
        identifiers.identifier_value,
        {{ dbt.hash('anchors.anchor_node_id') }} as customer_key,
        anchors.anchor_node_id,
        identifiers.first_seen_at,
        identifiers.last_seen_at
    from identifiers
    inner join anchors on identifiers.node_id = anchors.node_id
),

final as (
    select
        node_id as identity_map_id,
        identifier_type,
        identifier_value,
        customer_key,
        -- A known customer has an identifier a person gave: an account, a member id, or (unless var
        -- customer_include_email_guests is false) a checkout email. Cookie-only visitors and
        -- guest orders no identifier links to anyone are anonymous: their purchases count in
        -- revenue totals (marts.value_revenue_totals), not as customers.
        anchor_node_id not like 'anonymous_id:%'
        and anchor_node_id not like 'guest_order:%'
        {%- if not var('customer_include_email_guests', true) %}
        and anchor_node_id not like 'email:%'
        {%- endif %} as is_known_customer,
        anchor_node_id,
        first_seen_at,
        last_seen_at,
        cast({{ as_of_date_literal() }} as {{ dbt.type_timestamp() }}) as as_of_at
    from keyed
)

-- Lean storage (docs/scale.md): several rows per customer, written in customer_key order so
-- each stored block holds few keys and compresses them.
select * from final
order by customer_key
