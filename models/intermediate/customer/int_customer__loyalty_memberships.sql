with

memberships as (
    select * from {{ ref('stg_crm__loyalty_members') }}
),

account_keys as (
    select
        customer_id,
        customer_key
    from {{ ref('int_identity__account_keys') }}
),

final as (
    select
        memberships.member_id,
        account_keys.customer_key,
        memberships.customer_id,
        memberships.joined_at,
        memberships.tier,
        memberships.points_balance,
        memberships.left_at,
        memberships.is_active
    from memberships
    -- A left join keeps a row the map missed visible: its null key fails the not_null test.
    left join account_keys on memberships.customer_id = account_keys.customer_id
)

select * from final
