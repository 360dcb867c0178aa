{#-
  One row per known customer (a person with an account, an email or a member
  id: not an anonymous-only visitor, nor an anonymous purchase) as of the as-of date, with
  every feature family side by side. No names, emails or phones: only
  customer_key ties a row back to a person. A count is 0 for a person without
  such activity, and null when its raw source was not provided
  (count_if_provided): no web tracking means sessions are unknown, not zero.
-#}
{%- set consent_channels = feature_consent_channels() -%}
{%- set channels = feature_sales_channels() -%}
{%- set categories = feature_categories() -%}
{%- set windows = feature_activity_windows() -%}
with

identity_map as (
    select * from {{ ref('identity_map') }}
),

profile as (
    select * from {{ ref('int_features__profile') }}
),

transactions as (
    select * from {{ ref('int_features__transactions') }}
),

digital_behaviour as (
    select * from {{ ref('int_features__digital_behaviour') }}
),

time_habits as (
    select * from {{ ref('int_features__time_habits') }}
),

environment as (
    select * from {{ ref('int_features__environment') }}
),

referral as (
    select * from {{ ref('int_features__referral') }}
),

offline_feedback as (
    select * from {{ ref('int_features__offline_feedback') }}
),

known_customers as (
    select distinct customer_key
    from identity_map
    where is_known_customer
),

final as (
    select
        known_customers.customer_key,
        {{ as_of_date_literal() }} as as_of_date,

        -- profile and contactability
        coalesce(profile.accounts_count, 0) as accounts_count,
        profile.country_code,
        coalesce(profile.age_band, 'unknown') as age_band,
        profile.first_known_at,
        profile.tenure_days,
        {%- for channel in consent_channels %}
            {%- set column_name = 'has_' ~ feature_column_suffix(channel) ~ '_consent' %}
            coalesce(profile.{{ column_name }}, false) as {{ column_name }},
        {%- endfor %}
        coalesce(profile.is_loyalty_member, false) as is_loyalty_member,
        profile.loyalty_tier,
        profile.loyalty_points_balance,

        -- transactions
        transactions.first_order_date,
        transactions.last_order_date,
        transactions.days_since_last_order,
        coalesce(transactions.orders_count, 0) as orders_count,
        coalesce(transactions.items_count, 0) as items_count,
        coalesce(transactions.gross_revenue, 0) as gross_revenue,
        coalesce(transactions.discount_amount, 0) as discount_amount,
        coalesce(transactions.net_revenue, 0) as net_revenue,
        coalesce(transactions.refund_amount, 0) as refund_amount,
        -- No orders: no margin (0); orders with an unknown cost: unknown margin (null).
        case when transactions.customer_key is null then 0 else transactions.gross_margin end as gross_margin,
        transactions.discount_share,
        coalesce(transactions.returns_count, 0) as returns_count,
        coalesce(transactions.returned_items_count, 0) as returned_items_count,
        transactions.return_rate,
        transactions.average_order_value,
        {%- for channel in channels %}
            transactions.channel_share_{{ feature_column_suffix(channel) }},
        {%- endfor %}
        {%- for category in categories %}
            transactions.category_share_{{ feature_column_suffix(category) }},
        {%- endfor %}
        transactions.category_share_other,

        -- digital behaviour
        digital_behaviour.last_visit_at,
        digital_behaviour.days_since_last_visit,
        {{ count_if_provided('digital_behaviour.sessions_count', 'web.events') }} as sessions_count,
        {%- for days in windows %}
            {%- for measure in ['sessions', 'product_views', 'searches', 'cart_adds', 'cart_abandons'] %}
                {{ count_if_provided('digital_behaviour.' ~ measure ~ '_' ~ days ~ 'd', 'web.events') }}
                    as {{ measure }}_{{ days }}d,
            {%- endfor %}
        {%- endfor %}

        -- time
        time_habits.preferred_iso_weekday,
        time_habits.preferred_weekday,
        time_habits.preferred_hour_utc,
        coalesce(time_habits.purchase_days_count, 0) as purchase_days_count,
        time_habits.median_days_between_purchases,

        -- environment
        environment.main_device_type,
        environment.main_os,
        environment.main_country_code,
        environment.main_timezone,

        -- referral
        referral.first_touch_at,
        referral.first_touch_utm_source,
        referral.first_touch_utm_medium,
        referral.first_touch_utm_campaign,
        referral.last_touch_at,
        referral.last_touch_utm_source,
        referral.last_touch_utm_medium,
        referral.last_touch_utm_campaign,

        -- offline and feedback
        {{ count_if_provided('offline_feedback.service_cases_count', 'crm.service_cases') }}
            as service_cases_count,
        {{ count_if_provided('offline_feedback.open_service_cases_count', 'crm.service_cases') }}
            as open_service_cases_count,
        offline_feedback.last_service_case_at,
        offline_feedback.last_service_reason,
        offline_feedback.latest_nps_score,
        offline_feedback.latest_nps_category,
        offline_feedback.latest_nps_answered_at,
        {{ count_if_provided('offline_feedback.messages_sent_count', 'marketing.communications') }}
            as messages_sent_count,
        {{ count_if_provided('offline_feedback.messages_opened_count', 'marketing.communications') }}
            as messages_opened_count,
        {{ count_if_provided('offline_feedback.messages_clicked_count', 'marketing.communications') }}
            as messages_clicked_count,
        {{ count_if_provided('offline_feedback.messages_unsubscribed_count', 'marketing.communications') }}
            as messages_unsubscribed_count
    from known_customers
    left join profile on known_customers.customer_key = profile.customer_key
    left join transactions on known_customers.customer_key = transactions.customer_key
    left join digital_behaviour on known_customers.customer_key = digital_behaviour.customer_key
    left join time_habits on known_customers.customer_key = time_habits.customer_key
    left join environment on known_customers.customer_key = environment.customer_key
    left join referral on known_customers.customer_key = referral.customer_key
    left join offline_feedback on known_customers.customer_key = offline_feedback.customer_key
)

select * from final
