with

base as (
    select * from {{ ref('base_shop__orders') }}
    where quarantine_reason is null
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
        channel,
        raw_store_id as store_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        upper(raw_currency) as currency,
        status
    from base
)

select * from final
