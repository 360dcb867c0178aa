with

base as (
    select * from {{ ref('base_crm__consents') }}
    where quarantine_reason is null
),

final as (
    select
        {{ dbt.concat(['customer_id', "'|'", 'channel', "'|'", as_text('changed_at')]) }} as consent_change_id,
        customer_id,
        channel,
        is_granted,
        changed_at,
        lower(raw_source) as change_source
    from base
)

select * from final
