-- Customers who must not be contacted at all this run, one row per customer
-- and reason: an open service case (a complaint is answered, not marketed to),
-- an unsubscribe in the recent past, or an erasure request.
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

erasure_requests as (
    select
        customer_id,
        requested_at
    from {{ ref('privacy_erasure_requests') }}
    where cast(requested_at as date) <= {{ as_of_date_literal() }}
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

recent_unsubscribes as (
    select
        customer_key,
        'recent_unsubscribe' as suppression_reason,
        max(unsubscribed_at) as suppressed_since
    from unsubscribes
    group by customer_key
),

erased as (
    select
        account_keys.customer_key,
        'erased' as suppression_reason,
        min(cast(erasure_requests.requested_at as {{ dbt.type_timestamp() }})) as suppressed_since
    from erasure_requests
    inner join account_keys on erasure_requests.customer_id = account_keys.customer_id
    group by account_keys.customer_key
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
    union all
    select
        customer_key,
        suppression_reason,
        suppressed_since
    from erased
)

select * from final
