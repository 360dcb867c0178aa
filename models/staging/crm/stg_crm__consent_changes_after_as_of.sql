{#- Consent changes dated after the as-of date. Analytics never sees them (base
    quarantines them as after_as_of, and stg_crm__consents holds the state as of
    the as-of date), but suppression does: a withdrawal acts from the moment it
    is known, whatever date the build is computed as of (docs/privacy.md). Every
    such row present in the data counts, so the result does not depend on the
    clock. Rows otherwise broken are not here: after_as_of is the last check. -#}
with

base as (
    select * from {{ ref('base_crm__consents') }}
    where quarantine_reason = 'after_as_of'
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

-- Two copies of one change are one change.
select distinct
    consent_change_id,
    customer_id,
    channel,
    is_granted,
    changed_at,
    change_source
from final
