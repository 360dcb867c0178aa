with

surveys as (
    select * from {{ ref('stg_crm__surveys') }}
),

account_keys as (
    select
        customer_id,
        customer_key
    from {{ ref('int_identity__account_keys') }}
),

final as (
    select
        surveys.response_id,
        account_keys.customer_key,
        surveys.customer_id,
        surveys.nps_score,
        surveys.nps_category,
        surveys.touchpoint,
        surveys.answered_at
    from surveys
    -- A left join keeps a row the map missed visible: its null key fails the not_null test.
    left join account_keys on surveys.customer_id = account_keys.customer_id
)

select * from final
