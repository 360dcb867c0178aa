-- Customers who must not be contacted at all this run, one row per customer
-- and reason: an open service case (a complaint is answered, not marketed to),
-- or an unsubscribe in the recent past. Suppressions act from the moment they
-- are known: an unsubscribe dated after the as-of date (any present in the
-- data) counts too, while the as-of date governs analytics (docs/privacy.md).
-- An erased person needs no row: nothing of them reaches this layer.
with

service_cases as (
    select
        customer_key,
        opened_at
    from {{ ref('int_customer__service_cases') }}
    where customer_key is not null and is_open
),

unsubscribes as (
    select
        customer_key,
        unsubscribed_at
    from {{ ref('int_customer__communications') }}
    where
        customer_key is not null
        and unsubscribed_at >= {{ as_of_window_start(var('activation_unsubscribe_suppression_days')) }}
        and unsubscribed_at < {{ as_of_upper_bound() }}
),

unsubscribes_after_as_of as (
    select
        customer_id,
        unsubscribed_at
    from {{ ref('stg_marketing__unsubscribes_after_as_of') }}
),

account_keys as (
    select
        customer_id,
        customer_key
    from {{ ref('int_identity__account_keys') }}
),

open_complaints as (
    select
        customer_key,
        'open_complaint' as suppression_reason,
        min(opened_at) as suppressed_since
    from service_cases
    group by customer_key
),

all_unsubscribes as (
    select
        customer_key,
        unsubscribed_at
    from unsubscribes
    union all
    select
        account_keys.customer_key,
        unsubscribes_after_as_of.unsubscribed_at
    from unsubscribes_after_as_of
    inner join account_keys on unsubscribes_after_as_of.customer_id = account_keys.customer_id
),

recent_unsubscribes as (
    select
        customer_key,
        'recent_unsubscribe' as suppression_reason,
        max(unsubscribed_at) as suppressed_since
    from all_unsubscribes
    group by customer_key
),

final as (
    select
        customer_key,
        suppression_reason,
        suppressed_since
    from open_complaints
    union all
    select
        customer_key,
        suppression_reason,
        suppressed_since
    from recent_unsubscribes
)

select * from final
