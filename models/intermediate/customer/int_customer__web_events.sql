{#-
  Behavioural events with the customer_key of the person behind them: a
  logged-in event through its user_id (the shop customer_id), an anonymous one
  through its cookie. Events whose identifiers are not in the map (a shared
  household tablet's cookie) cannot be tied to one person and are left out.

  A view: a table would copy every event again (size) and be rewritten every
  day, because one new order can merge two people and move their old events to
  one key. The join to the map is cheap; readers that aggregate per customer
  (int_customer__web_sessions) store what they compute.
-#}
{{ config(materialized='view') }}
with

events as (
    select * from {{ ref('stg_web__events') }}
),

identity_map as (
    select * from {{ ref('identity_map') }}
),

account_keys as (
    select
        identifier_value,
        customer_key
    from identity_map
    where identifier_type = 'customer_id'
),

cookie_keys as (
    select
        identifier_value,
        customer_key
    from identity_map
    where identifier_type = 'anonymous_id'
),

attributed as (
    select
        events.event_id,
        coalesce(account_keys.customer_key, cookie_keys.customer_key) as customer_key,
        case
            when account_keys.customer_key is not null then 'customer_id'
            when cookie_keys.customer_key is not null then 'anonymous_id'
        end as attribution_method,
        events.anonymous_id,
        events.is_logged_in,
        events.event_name,
        events.occurred_at,
        events.event_date,
        events.product_id,
        events.search_term,
        events.utm_source,
        events.utm_medium,
        events.utm_campaign,
        events.device_type,
        events.os,
        events.browser,
        events.country_code,
        events.timezone
    from events
    left join account_keys on events.user_id = account_keys.identifier_value
    -- The cookie only decides when the login does not.
    left join cookie_keys
        on
            events.anonymous_id = cookie_keys.identifier_value
            and account_keys.customer_key is null
),

final as (
    select * from attributed
    where customer_key is not null
)

select * from final
