with

base as (
    select * from {{ ref('base_crm__loyalty_members') }}
    where quarantine_reason is null
),

final as (
    select
        member_id,
        raw_customer_id as customer_id,
        joined_at,
        lower(raw_tier) as tier,
        points_balance,
        -- A leave after the as-of date has not happened yet as of that date.
        case when left_at < {{ as_of_upper_bound() }} then left_at end as left_at,
        coalesce(left_at >= {{ as_of_upper_bound() }}, true) as is_active
    from base
)

select * from final
