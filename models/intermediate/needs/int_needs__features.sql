{#-
  The needs signals per customer of the customer 360, in raw units (scaling
  happens with the fit: see needs_segment_fit_history): category mix, price
  sensitivity (discount share, price level vs category average), channel and
  device preference, time-of-day and weekend habits, browsing and search
  intensity, returns, service contacts, NPS and response to messages. The
  column list is needs_feature_columns() (macros/needs/needs_features.sql).

  Customers with fewer than var('needs_min_orders') non-cancelled orders do not
  have enough history to read their needs from: they are kept (every customer
  has a row) but never fitted on nor assigned a segment. Those with enough
  history are ranked by a hash of their key, a deterministic pseudo-random
  order that changes little from day to day; the fitting sample is the first
  var('needs_sample_size') of them.
-#}
{%- set categories = feature_categories() -%}
{%- set channels = feature_sales_channels() -%}
{%- set devices = needs_device_types() -%}
with

customers as (
    select * from {{ ref('customer_360') }}
),

activity_habits as (
    select * from {{ ref('int_needs__activity_habits') }}
),

price_levels as (
    select * from {{ ref('int_needs__price_levels') }}
),

features as (
    select
        customers.customer_key,
        customers.as_of_date,
        customers.orders_count,
        customers.orders_count >= {{ var('needs_min_orders', 2) }} as has_enough_history,
        {%- for category in categories %}
            customers.category_share_{{ feature_column_suffix(category) }},
        {%- endfor %}
        customers.discount_share,
        price_levels.price_level_index,
        {%- for channel in channels %}
            customers.channel_share_{{ feature_column_suffix(channel) }},
        {%- endfor %}
        {%- for device in devices %}
            activity_habits.device_share_{{ feature_column_suffix(device) }},
        {%- endfor %}
        activity_habits.activity_hour_sin,
        activity_habits.activity_hour_cos,
        activity_habits.weekend_activity_share,
        {{ safe_ratio('customers.sessions_count', 'customers.orders_count') }} as sessions_per_order,
        {{ safe_ratio('customers.searches_365d', 'customers.sessions_365d') }} as searches_per_session,
        customers.return_rate,
        {{ safe_ratio('customers.service_cases_count', 'customers.orders_count') }} as service_cases_per_order,
        cast(customers.latest_nps_score as {{ dbt.type_float() }}) as latest_nps_score,
        {{ safe_ratio('customers.messages_opened_count', 'customers.messages_sent_count') }} as message_open_rate,
        row_number() over (
            partition by customers.orders_count >= {{ var('needs_min_orders', 2) }}
            order by {{ dbt.hash('customers.customer_key') }}, customers.customer_key
        ) as history_rank
    from customers
    left join activity_habits on customers.customer_key = activity_habits.customer_key
    left join price_levels on customers.customer_key = price_levels.customer_key
),

final as (
    select
        customer_key,
        as_of_date,
        orders_count,
        has_enough_history,
        {%- for feature in needs_feature_columns() %}
            {{ feature }},
        {%- endfor %}
        case when has_enough_history then history_rank end as fitting_sample_rank
    from features
)

select * from final
