{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 37 MiB there. -#}
{{ config(materialized='view') }}
{#-
  Every sighting of an identifier, with the node it was seen with: the
  account, or for a purchase confirmation the order's owner. Accounts,
  emails, phones and member ids form the person graph; cookies attach to it
  afterwards (int_identity__cookies), so a cookie can never merge two people.
-#}
with

customers as (
    select
        customer_id,
        email,
        phone,
        created_at,
        updated_at
    from {{ ref('stg_shop__customers') }}
),

orders as (
    select
        order_id,
        customer_id,
        email,
        ordered_at
    from {{ ref('stg_shop__orders') }}
),

events as (
    select
        anonymous_id,
        user_id,
        order_id,
        occurred_at
    from {{ ref('stg_web__events') }}
),

members as (
    select
        member_id,
        customer_id,
        joined_at
    from {{ ref('stg_crm__loyalty_members') }}
),

blocked_emails as (
    select lower(trim(identifier_value)) as email
    from {{ ref('identity_blocklist') }}
    where identifier_type = 'email'
),

known_accounts as (
    select
        customer_id,
        min(created_at) as created_at
    from customers
    group by customer_id
),

-- Who owns an order: its account; a guest's usable email; else the guest order itself.
order_owners as (
    select
        orders.order_id,
        orders.customer_id,
        orders.email,
        orders.ordered_at,
        case
            when orders.customer_id is not null
                then {{ dbt.concat(["'customer_id:'", 'orders.customer_id']) }}
            when orders.email is not null and blocked_emails.email is null
                then {{ dbt.concat(["'email:'", 'orders.email']) }}
            else {{ dbt.concat(["'guest_order:'", 'orders.order_id']) }}
        end as owner_node_id
    from orders
    left join blocked_emails on orders.email = blocked_emails.email
),

observations as (
    select
        'customer_id' as identifier_type,
        customer_id as identifier_value,
        {{ dbt.concat(["'customer_id:'", 'customer_id']) }} as linked_node_id,
        created_at as observed_at,
        'shop.customers' as observed_in
    from known_accounts

    union all

    select
        'email' as identifier_type,
        email as identifier_value,
        {{ dbt.concat(["'customer_id:'", 'customer_id']) }} as linked_node_id,
        updated_at as observed_at,
        'shop.customers' as observed_in
    from customers
    where email is not null

    union all

    select
        'phone' as identifier_type,
        phone as identifier_value,
        {{ dbt.concat(["'customer_id:'", 'customer_id']) }} as linked_node_id,
        updated_at as observed_at,
        'shop.customers' as observed_in
    from customers
    where phone is not null

    union all

    -- Account orders link their checkout email to the account; a guest's email stands alone.
    select
        'email' as identifier_type,
        email as identifier_value,
        case
            when customer_id is not null then {{ dbt.concat(["'customer_id:'", 'customer_id']) }}
        end as linked_node_id,
        ordered_at as observed_at,
        'shop.orders' as observed_in
    from order_owners
    where email is not null

    union all

    select
        'guest_order' as identifier_type,
        order_id as identifier_value,
        null as linked_node_id,
        ordered_at as observed_at,
        'shop.orders' as observed_in
    from order_owners
    where owner_node_id like 'guest_order:%'

    union all

    select
        'anonymous_id' as identifier_type,
        events.anonymous_id as identifier_value,
        case
            -- A user_id that is no staged account cannot vouch for anyone.
            when known_accounts.customer_id is not null
                then {{ dbt.concat(["'customer_id:'", 'known_accounts.customer_id']) }}
            else order_owners.owner_node_id
        end as linked_node_id,
        events.occurred_at as observed_at,
        'web.events' as observed_in
    from events
    left join known_accounts on events.user_id = known_accounts.customer_id
    left join order_owners on events.order_id = order_owners.order_id
    where events.anonymous_id is not null

    union all

    select
        'member_id' as identifier_type,
        member_id as identifier_value,
        {{ dbt.concat(["'customer_id:'", 'customer_id']) }} as linked_node_id,
        joined_at as observed_at,
        'crm.loyalty_members' as observed_in
    from members
)

select
    {{ dbt.concat(['identifier_type', "':'", 'identifier_value']) }} as node_id,
    identifier_type,
    identifier_value,
    linked_node_id,
    observed_at,
    observed_in
from observations
