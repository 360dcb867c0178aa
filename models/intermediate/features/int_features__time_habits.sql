{#-
  When the person is active: the weekday and hour (UTC) that occur most often
  over their non-cancelled orders and web events together, ties going to the
  earlier weekday or hour; and their usual time between purchases, the median
  number of days between consecutive distinct purchase days.
-#}
{%- set weekday_names = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] -%}
with

orders as (
    select * from {{ ref('int_customer__orders') }}
    where not is_cancelled
),

events as (
    select * from {{ ref('int_customer__web_events') }}
),

activity as (
    select
        customer_key,
        ordered_at as occurred_at
    from orders
    union all
    select
        customer_key,
        occurred_at
    from events
),

activity_times as (
    select
        customer_key,
        {{ iso_weekday('cast(occurred_at as date)') }} as iso_weekday,
        extract(hour from occurred_at) as hour_of_day
    from activity
),

weekday_counts as (
    select
        customer_key,
        iso_weekday,
        count(*) as activity_count
    from activity_times
    group by customer_key, iso_weekday
),

ranked_weekdays as (
    select
        customer_key,
        iso_weekday,
        row_number() over (partition by customer_key order by activity_count desc, iso_weekday asc) as preference_rank
    from weekday_counts
),

hour_counts as (
    select
        customer_key,
        hour_of_day,
        count(*) as activity_count
    from activity_times
    group by customer_key, hour_of_day
),

ranked_hours as (
    select
        customer_key,
        hour_of_day,
        row_number() over (partition by customer_key order by activity_count desc, hour_of_day asc) as preference_rank
    from hour_counts
),

purchase_days as (
    select distinct
        customer_key,
        order_date
    from orders
),

purchase_gaps as (
    select
        customer_key,
        {{ dbt.datediff(
            'lag(order_date) over (partition by customer_key order by order_date)', 'order_date', 'day'
        ) }} as gap_days
    from purchase_days
),

ranked_gaps as (
    select
        customer_key,
        gap_days,
        row_number() over (partition by customer_key order by gap_days) as gap_rank,
        count(*) over (partition by customer_key) as gaps_count
    from purchase_gaps
    where gap_days is not null
),

-- The median is the middle gap, or the mean of the two middle gaps: the
-- ranks r with n <= 2r <= n + 2, written without a dialect's median function.
median_gaps as (
    select
        customer_key,
        avg(cast(gap_days as {{ dbt.type_float() }})) as median_days_between_purchases
    from ranked_gaps
    where 2 * gap_rank between gaps_count and gaps_count + 2
    group by customer_key
),

purchase_day_counts as (
    select
        customer_key,
        count(*) as purchase_days_count
    from purchase_days
    group by customer_key
),

customers as (
    select distinct customer_key from activity
),

final as (
    select
        customers.customer_key,
        ranked_weekdays.iso_weekday as preferred_iso_weekday,
        case ranked_weekdays.iso_weekday
            {%- for name in weekday_names %}
                when {{ loop.index }} then '{{ name }}'
            {%- endfor %}
        end as preferred_weekday,
        ranked_hours.hour_of_day as preferred_hour_utc,
        coalesce(purchase_day_counts.purchase_days_count, 0) as purchase_days_count,
        median_gaps.median_days_between_purchases
    from customers
    left join ranked_weekdays
        on
            customers.customer_key = ranked_weekdays.customer_key
            and ranked_weekdays.preference_rank = 1
    left join ranked_hours
        on
            customers.customer_key = ranked_hours.customer_key
            and ranked_hours.preference_rank = 1
    left join purchase_day_counts on customers.customer_key = purchase_day_counts.customer_key
    left join median_gaps on customers.customer_key = median_gaps.customer_key
)

select * from final
