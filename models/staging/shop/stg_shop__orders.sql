with

base as (
    select * from {{ ref('base_shop__orders') }}
    where quarantine_reason is null
),

channel_groups as (
    select
        lower(raw_channel) as raw_channel,
        channel_group
    from {{ ref('sales_channel_groups') }}
),

-- Any channel the shop records is kept: the seed groups known names, others stay as written.
grouped as (
    select
        base.*,
        coalesce(channel_groups.channel_group, base.channel, 'unknown') as channel_group
    from base
    left join channel_groups on base.channel = channel_groups.raw_channel
),

final as (
    select
        order_id,
        raw_customer_id as customer_id,
        case when {{ is_valid_email(normalize_email('raw_email')) }} then {{ normalize_email('raw_email') }} end
            as email,
        case
            when {{ is_valid_email(normalize_email('raw_email')) }}
                then {{ sha256(normalize_email('raw_email')) }}
        end as email_sha256,
        raw_customer_id is null as is_guest_checkout,
        channel_group as channel,
        raw_channel as source_channel,
        raw_store_id as store_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        upper(raw_currency) as currency,
        status
    from grouped
)

-- Lean storage (docs/scale.md): several orders per customer, written in customer_id order so each stored block
-- holds few keys and compresses them.
select * from final
order by customer_id, ordered_at, order_id
