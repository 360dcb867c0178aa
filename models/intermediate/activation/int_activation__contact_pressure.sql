-- Messages each customer received in the rolling contact-pressure window that
-- ends on the as-of date: activation may not add a contact beyond the limit.
with

communications as (
    select
        customer_key,
        sent_at
    from {{ ref('int_customer__communications') }}
    where
        customer_key is not null
        and sent_at >= {{ as_of_window_start(var('activation_contact_pressure_window_days')) }}
        and sent_at < {{ as_of_upper_bound() }}
),

final as (
    select
        customer_key,
        count(*) as contacts_in_window,
        max(sent_at) as last_contact_at
    from communications
    group by customer_key
)

select * from final
