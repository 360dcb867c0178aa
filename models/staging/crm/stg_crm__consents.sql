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

-- Lean storage (docs/scale.md): several changes per customer, written in customer_id order so each stored block
-- holds few keys and compresses them.
select * from final
order by customer_id, changed_at, consent_change_id
