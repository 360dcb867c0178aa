with

base as (
    select * from {{ ref('base_crm__service_cases') }}
    where quarantine_reason is null
),

as_of_view as (
    select
        case_id,
        raw_customer_id as customer_id,
        lower(raw_channel) as contact_channel,
        lower(raw_reason) as contact_reason,
        opened_at,
        -- A resolution after the as-of date is not known yet as of that date.
        case when resolved_at < {{ as_of_upper_bound() }} then resolved_at end as resolved_at,
        case when resolved_at < {{ as_of_upper_bound() }} then satisfaction end as satisfaction
    from base
),

final as (
    select
        case_id,
        customer_id,
        contact_channel,
        contact_reason,
        opened_at,
        resolved_at,
        resolved_at is null as is_open,
        satisfaction
    from as_of_view
)

select * from final
