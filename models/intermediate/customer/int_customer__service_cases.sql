with

service_cases as (
    select * from {{ ref('stg_crm__service_cases') }}
),

account_keys as (
    select
        customer_id,
        customer_key
    from {{ ref('int_identity__account_keys') }}
),

final as (
    select
        service_cases.case_id,
        account_keys.customer_key,
        service_cases.customer_id,
        service_cases.contact_channel,
        service_cases.contact_reason,
        service_cases.opened_at,
        service_cases.resolved_at,
        service_cases.is_open,
        service_cases.satisfaction
    from service_cases
    -- A left join keeps a row the map missed visible: its null key fails the not_null test.
    left join account_keys on service_cases.customer_id = account_keys.customer_id
)

select * from final
