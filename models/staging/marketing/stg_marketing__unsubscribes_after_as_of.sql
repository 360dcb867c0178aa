{#- Unsubscribes dated after the as-of date, from messages sent before it (their
    later responses are hidden from analytics in stg_marketing__communications)
    or after it (quarantined as after_as_of). Suppression uses every unsubscribe
    present in the data, whatever the as-of date (docs/privacy.md). -#}
with

base as (
    select
        send_id,
        raw_customer_id as customer_id,
        channel,
        unsubscribed_at
    from {{ ref('base_marketing__communications') }}
    where
        (quarantine_reason is null or quarantine_reason = 'after_as_of')
        and unsubscribed_at >= {{ as_of_upper_bound() }}
        and send_id is not null
        and raw_customer_id is not null
)

select distinct
    send_id,
    customer_id,
    channel,
    unsubscribed_at
from base
