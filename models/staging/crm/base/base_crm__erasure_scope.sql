{{ config(materialized='ephemeral') }}
{#-
  Every identifier of every person an erasure request names, one row per
  request and identifier node ('<type>:<value>', as identity resolution names
  nodes, plus 'order_id:<id>' for each of the person's orders). The base
  models drop every raw row holding one of them (macros/staging/erasure.sql).

  Identity resolution (int_identity__*) runs on staged rows, after the base
  models have decided; erasure has to act before that, so this model resolves
  the requested identifiers on the raw rows themselves, with the same rules:
  accounts, emails, phones and member ids link one person; a blocklisted
  identifier, or one linked to more accounts than its type allows
  (seeds/identity_identifier_types.csv), is erased where it appears but never
  followed to other accounts; a cookie belongs to the person when everything
  it was seen with (logins, order confirmations) is theirs (a shared device is
  nobody's), and a guest order joins them through such a cookie.

  It reads the raw identifier columns of the sources directly (the one base
  model that reads other sources than its own): it must run before any base
  model decides. Ephemeral: the resolved list is never stored.
-#}
{%- set rounds = var('identity_max_rounds', 12) | int %}

with

requests as (
    select
        request_id,
        identifier_type,
        node_id
    from {{ ref('base_crm__erasure_requests') }}
    where request_id is not null and identifier_value is not null
),

identifier_types as (
    select
        identifier_type,
        max_linked_accounts
    from {{ ref('identity_identifier_types') }}
),

blocklist as (
    select {{ dbt.concat(['identifier_type', "':'", 'lower(trim(identifier_value))']) }} as node_id
    from {{ ref('identity_blocklist') }}
),

raw_customers as (
    select
        {{ raw_text(adapter.quote('customer_id')) }} as customer_id,
        {{ normalize_email(raw_text(adapter.quote('email'))) }} as email,
        {{ digits_only(raw_text(adapter.quote('phone'))) }} as phone
    from {{ raw_source('shop', 'customers') }}
),

raw_orders as (
    select
        {{ raw_text(adapter.quote('order_id')) }} as order_id,
        {{ raw_text(adapter.quote('customer_id')) }} as customer_id,
        {{ normalize_email(raw_text(adapter.quote('email'))) }} as email
    from {{ raw_source('shop', 'orders') }}
),

raw_events as (
    select
        {{ raw_text(adapter.quote('anonymous_id')) }} as anonymous_id,
        {{ raw_text(adapter.quote('user_id')) }} as user_id,
        {{ confirmation_order_id(raw_text(adapter.quote('page_url'))) }} as order_id
    from {{ raw_source('web', 'events') }}
),

raw_members as (
    select
        {{ raw_text(adapter.quote('member_id')) }} as member_id,
        {{ raw_text(adapter.quote('customer_id')) }} as customer_id
    from {{ raw_source('crm', 'loyalty_members') }}
),

-- Account <-> identifier links, as identity resolution draws them (int_identity__observations).
account_links as (
    select
        customer_id,
        {{ dbt.concat(["'email:'", 'email']) }} as node_id
    from raw_customers
    where customer_id is not null and {{ is_valid_email('email') }}
    union all
    select
        customer_id,
        {{ dbt.concat(["'phone:'", 'phone']) }} as node_id
    from raw_customers
    where customer_id is not null and length(phone) >= 6
    union all
    select
        customer_id,
        {{ dbt.concat(["'email:'", 'email']) }} as node_id
    from raw_orders
    where customer_id is not null and {{ is_valid_email('email') }}
    union all
    select
        customer_id,
        {{ dbt.concat(["'member_id:'", 'member_id']) }} as node_id
    from raw_members
    where customer_id is not null and member_id is not null
),

-- An identifier links accounts only when identity resolution would use it.
usable_nodes as (
    select account_links.node_id
    from account_links
    inner join identifier_types
        on {{ dbt.split_part('account_links.node_id', "':'", 1) }} = identifier_types.identifier_type
    left join blocklist on account_links.node_id = blocklist.node_id
    where blocklist.node_id is null
    group by account_links.node_id, identifier_types.max_linked_accounts
    having count(distinct account_links.customer_id) <= identifier_types.max_linked_accounts
),

edges as (
    select distinct
        {{ dbt.concat(["'customer_id:'", 'account_links.customer_id']) }} as from_node_id,
        account_links.node_id as to_node_id
    from account_links
    inner join usable_nodes on account_links.node_id = usable_nodes.node_id
    union
    select distinct
        account_links.node_id as from_node_id,
        {{ dbt.concat(["'customer_id:'", 'account_links.customer_id']) }} as to_node_id
    from account_links
    inner join usable_nodes on account_links.node_id = usable_nodes.node_id
),

-- Who owns an order: its account; a guest's usable email; else the guest order itself.
order_owners as (
    select
        raw_orders.order_id,
        case
            when raw_orders.customer_id is not null
                then {{ dbt.concat(["'customer_id:'", 'raw_orders.customer_id']) }}
            when {{ is_valid_email('raw_orders.email') }} and blocklist.node_id is null
                then {{ dbt.concat(["'email:'", 'raw_orders.email']) }}
            else {{ dbt.concat(["'guest_order:'", 'raw_orders.order_id']) }}
        end as owner_node_id
    from raw_orders
    left join blocklist on {{ dbt.concat(["'email:'", 'raw_orders.email']) }} = blocklist.node_id
    where raw_orders.order_id is not null
),

-- What each cookie was seen with: the account logged in, the owner of the order confirmed.
cookie_links as (
    select distinct
        {{ dbt.concat(["'anonymous_id:'", 'raw_events.anonymous_id']) }} as cookie_node_id,
        coalesce(
            {{ dbt.concat(["'customer_id:'", 'raw_events.user_id']) }}, order_owners.owner_node_id
        ) as linked_node_id
    from raw_events
    left join order_owners on raw_events.order_id = order_owners.order_id
    where
        raw_events.anonymous_id is not null
        and (raw_events.user_id is not null or order_owners.owner_node_id is not null)
),

-- A requested cookie stands for its person when it was seen with one account or owner only.
requested_cookie_persons as (
    select
        requests.request_id,
        min(cookie_links.linked_node_id) as node_id
    from requests
    inner join cookie_links on requests.node_id = cookie_links.cookie_node_id
    group by requests.request_id, requests.node_id
    having count(distinct cookie_links.linked_node_id) = 1
),

round_0 as (
    select
        request_id,
        node_id
    from requests
    union
    select
        request_id,
        node_id
    from requested_cookie_persons
),
{%- for round in range(1, rounds + 1) %}

    round_{{ round }} as (
        select
            request_id,
            node_id
        from round_{{ round - 1 }}
        union
        select
            round_{{ round - 1 }}.request_id,
            edges.to_node_id as node_id
        from round_{{ round - 1 }}
        inner join edges on round_{{ round - 1 }}.node_id = edges.from_node_id
    ),
{%- endfor %}

persons as (
    select
        request_id,
        node_id
    from round_{{ rounds }}
),

-- A cookie is the person's when it was seen with them and with nobody else
-- (guest orders known only by their id do not make a device shared).
erasures as (
    select distinct request_id from persons
),

cookies_seen_with_persons as (
    select distinct cookie_links.cookie_node_id
    from cookie_links
    inner join persons on cookie_links.linked_node_id = persons.node_id
),

cookie_verdicts as (
    select
        erasures.request_id,
        cookie_links.cookie_node_id,
        sum(case when persons.node_id is not null then 1 else 0 end) as links_to_person,
        sum(case
            when persons.node_id is null and cookie_links.linked_node_id not like 'guest_order:%' then 1 else 0
        end) as links_to_others
    from erasures
    cross join cookie_links
    inner join cookies_seen_with_persons on cookie_links.cookie_node_id = cookies_seen_with_persons.cookie_node_id
    left join persons
        on
            erasures.request_id = persons.request_id
            and cookie_links.linked_node_id = persons.node_id
    group by erasures.request_id, cookie_links.cookie_node_id
),

person_cookies as (
    select
        request_id,
        cookie_node_id as node_id
    from cookie_verdicts
    where links_to_person > 0 and links_to_others = 0
),

-- Guest orders the person's cookies confirmed join them (int_identity__anchors).
adopted_guest_orders as (
    select distinct
        person_cookies.request_id,
        cookie_links.linked_node_id as node_id
    from person_cookies
    inner join cookie_links on person_cookies.node_id = cookie_links.cookie_node_id
    where cookie_links.linked_node_id like 'guest_order:%'
),

identity_nodes as (
    select
        request_id,
        node_id
    from persons
    union
    select
        request_id,
        node_id
    from person_cookies
    union
    select
        request_id,
        node_id
    from adopted_guest_orders
),

-- Every order the person placed: as an account, as a guest with their email, or adopted.
orders as (
    select distinct
        identity_nodes.request_id,
        {{ dbt.concat(["'order_id:'", 'order_owners.order_id']) }} as node_id
    from order_owners
    inner join identity_nodes on order_owners.owner_node_id = identity_nodes.node_id
),

final as (
    select
        request_id,
        node_id
    from identity_nodes
    union
    select
        request_id,
        node_id
    from orders
)

select
    request_id,
    node_id
from final
where node_id is not null
