with

communications as (
    select * from {{ ref('stg_marketing__communications') }}
),

account_keys as (
    select
        customer_id,
        customer_key
    from {{ ref('int_identity__account_keys') }}
),

final as (
    select
        communications.send_id,
        account_keys.customer_key,
        communications.customer_id,
        communications.campaign_id,
        communications.treatment_code,
        communications.channel,
        communications.sent_at,
        communications.delivered_at,
        communications.opened_at,
        communications.clicked_at,
        communications.unsubscribed_at
    from communications
    -- A left join keeps a row the map missed visible: its null key fails the not_null test.
    left join account_keys on communications.customer_id = account_keys.customer_id
)

-- Lean storage (docs/scale.md): several rows per customer, written in customer_key order so
-- each stored block holds few keys and compresses them.
select * from final
order by customer_key
