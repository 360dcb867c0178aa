{#-
  Contacts outside the shop: service cases, the latest NPS answer and how the
  person responds to the messages sent to them.
-#}
with

service_cases as (
    select * from {{ ref('int_customer__service_cases') }}
),

survey_responses as (
    select * from {{ ref('int_customer__survey_responses') }}
),

communications as (
    select * from {{ ref('int_customer__communications') }}
),

case_totals as (
    select
        customer_key,
        count(*) as service_cases_count,
        count(case when is_open then 1 end) as open_service_cases_count,
        max(opened_at) as last_service_case_at
    from service_cases
    group by customer_key
),

ranked_cases as (
    select
        customer_key,
        contact_reason,
        row_number() over (partition by customer_key order by opened_at desc, case_id desc) as recency_rank
    from service_cases
),

ranked_responses as (
    select
        customer_key,
        nps_score,
        nps_category,
        answered_at,
        row_number() over (partition by customer_key order by answered_at desc, response_id desc) as recency_rank
    from survey_responses
),

message_totals as (
    select
        customer_key,
        count(*) as messages_sent_count,
        count(opened_at) as messages_opened_count,
        count(clicked_at) as messages_clicked_count,
        count(unsubscribed_at) as messages_unsubscribed_count,
        max(sent_at) as last_message_sent_at
    from communications
    group by customer_key
),

customers as (
    select customer_key from service_cases
    union
    select customer_key from survey_responses
    union
    select customer_key from communications
),

final as (
    select
        customers.customer_key,
        coalesce(case_totals.service_cases_count, 0) as service_cases_count,
        coalesce(case_totals.open_service_cases_count, 0) as open_service_cases_count,
        case_totals.last_service_case_at,
        ranked_cases.contact_reason as last_service_reason,
        ranked_responses.nps_score as latest_nps_score,
        ranked_responses.nps_category as latest_nps_category,
        ranked_responses.answered_at as latest_nps_answered_at,
        coalesce(message_totals.messages_sent_count, 0) as messages_sent_count,
        coalesce(message_totals.messages_opened_count, 0) as messages_opened_count,
        coalesce(message_totals.messages_clicked_count, 0) as messages_clicked_count,
        coalesce(message_totals.messages_unsubscribed_count, 0) as messages_unsubscribed_count,
        message_totals.last_message_sent_at
    from customers
    left join case_totals on customers.customer_key = case_totals.customer_key
    left join ranked_cases
        on
            customers.customer_key = ranked_cases.customer_key
            and ranked_cases.recency_rank = 1
    left join ranked_responses
        on
            customers.customer_key = ranked_responses.customer_key
            and ranked_responses.recency_rank = 1
    left join message_totals on customers.customer_key = message_totals.customer_key
)

select * from final
