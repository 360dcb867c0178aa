-- Channels a customer withdrew consent from after the as-of date: the latest
-- consent change known on the channel, among those dated after as-of, is a
-- withdrawal. Customer 360 holds the consent as of the as-of date (analytics);
-- activation also honours every later withdrawal present in the data, so the
-- next run never targets a withdrawn channel and the next sync removes the
-- customer there (docs/privacy.md). A later re-grant lifts only a later
-- withdrawal: consent as of the as-of date is still needed.
with

changes as (
    select
        customer_id,
        channel,
        is_granted,
        changed_at
    from {{ ref('stg_crm__consent_changes_after_as_of') }}
),

account_keys as (
    select
        customer_id,
        customer_key
    from {{ ref('int_identity__account_keys') }}
),

ranked as (
    select
        account_keys.customer_key,
        changes.channel,
        changes.is_granted,
        changes.changed_at,
        -- Across a person's accounts the latest change wins; at one instant a withdrawal does.
        row_number() over (
            partition by account_keys.customer_key, changes.channel
            order by changes.changed_at desc, case when changes.is_granted then 1 else 0 end asc
        ) as change_rank
    from changes
    inner join account_keys on changes.customer_id = account_keys.customer_id
),

final as (
    select
        customer_key,
        channel,
        changed_at as withdrawn_at
    from ranked
    where change_rank = 1 and not is_granted
)

select * from final
