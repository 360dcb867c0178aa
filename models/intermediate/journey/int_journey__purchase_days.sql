{#-
  One row per customer and purchase day (a day with at least one
  non-cancelled order), with what the lifecycle rules need to know right
  after that purchase: how many purchase days so far, the gap since the
  previous one, the customer's own rhythm and the overdue thresholds it sets,
  and whether the purchase ended a lapse. Everything on a row depends only on
  purchases up to that day, so the stage history can be rebuilt for any
  as-of date.

  Rhythm: the median of the customer's most recent rhythm_max_gaps gaps
  between purchase days, once there are rhythm_min_gaps of them. The median
  (not the mean) keeps one long lapse from stretching it. For a steady
  (Poisson) buyer a silence of k medians has probability 2^-k, which is what
  the rhythm multiples in the seed are read against.
-#}
with

orders as (
    select
        customer_key,
        order_id,
        ordered_at,
        order_date,
        net_amount,
        cost_amount,
        refund_amount
    from {{ ref('int_customer__orders') }}
    -- Anonymous purchases are revenue, not a customer's journey.
    where not is_cancelled and is_known_customer
),

thresholds as (
    select
        rhythm_min_gaps,
        rhythm_max_gaps,
        at_risk_rhythm_multiple,
        at_risk_min_days,
        at_risk_max_days,
        at_risk_default_days,
        lapsed_rhythm_multiple,
        lapsed_min_days,
        lapsed_max_days,
        lapsed_default_days
    from {{ ref('int_journey__thresholds') }}
),

ranked_orders as (
    select
        customer_key,
        order_id,
        ordered_at,
        order_date,
        row_number() over (
            partition by customer_key, order_date
            order by ordered_at, order_id
        ) as order_rank_in_day
    from orders
),

day_totals as (
    select
        customer_key,
        order_date as purchase_date,
        count(*) as orders_count,
        sum(net_amount) as net_revenue,
        sum(net_amount - cost_amount - refund_amount) as gross_margin
    from orders
    group by customer_key, order_date
),

purchase_days as (
    select
        day_totals.customer_key,
        day_totals.purchase_date,
        ranked_orders.order_id as first_order_id,
        ranked_orders.ordered_at as first_ordered_at,
        day_totals.orders_count,
        day_totals.net_revenue,
        day_totals.gross_margin,
        row_number() over (
            partition by day_totals.customer_key order by day_totals.purchase_date
        ) as purchase_number,
        min(day_totals.purchase_date) over (partition by day_totals.customer_key) as first_purchase_date,
        lag(day_totals.purchase_date) over (
            partition by day_totals.customer_key order by day_totals.purchase_date
        ) as previous_purchase_date,
        lead(day_totals.purchase_date) over (
            partition by day_totals.customer_key order by day_totals.purchase_date
        ) as next_purchase_date
    from day_totals
    inner join ranked_orders
        on
            day_totals.customer_key = ranked_orders.customer_key
            and day_totals.purchase_date = ranked_orders.order_date
            and ranked_orders.order_rank_in_day = 1
),

gaps as (
    select
        customer_key,
        purchase_number,
        {{ dbt.datediff('previous_purchase_date', 'purchase_date', 'day') }}
            as gap_days
    from purchase_days
    where previous_purchase_date is not null
),

-- Each purchase with the gaps its rhythm is the median of: its own and the
-- ones before it, at most rhythm_max_gaps of them.
recent_gaps as (
    select
        purchase_days.customer_key,
        purchase_days.purchase_number,
        gaps.gap_days,
        thresholds.rhythm_min_gaps,
        row_number() over (
            partition by purchase_days.customer_key, purchase_days.purchase_number
            order by gaps.gap_days, gaps.purchase_number
        ) as gap_rank,
        count(*) over (
            partition by purchase_days.customer_key, purchase_days.purchase_number
        ) as gaps_count
    from purchase_days
    cross join thresholds
    inner join gaps
        on
            purchase_days.customer_key = gaps.customer_key
            and purchase_days.purchase_number >= gaps.purchase_number
            and purchase_days.purchase_number - thresholds.rhythm_max_gaps < gaps.purchase_number
),

-- The middle gap, or the mean of the two middle gaps (ranks r with
-- n <= 2r <= n + 2), without a dialect's median function; only once there
-- are rhythm_min_gaps gaps.
rhythms as (
    select
        customer_key,
        purchase_number,
        avg(cast(gap_days as {{ dbt.type_float() }})) as rhythm_days
    from recent_gaps
    where 2 * gap_rank between gaps_count and gaps_count + 2
    group by customer_key, purchase_number
    having max(gaps_count) >= max(rhythm_min_gaps)
),

-- The rhythm's multiple, within the seed's bounds; the default without a rhythm.
with_thresholds as (
    select
        purchase_days.customer_key,
        purchase_days.purchase_date,
        purchase_days.purchase_number,
        purchase_days.first_order_id,
        purchase_days.first_ordered_at,
        purchase_days.orders_count,
        purchase_days.net_revenue,
        purchase_days.gross_margin,
        purchase_days.first_purchase_date,
        purchase_days.previous_purchase_date,
        purchase_days.next_purchase_date,
        {{ dbt.datediff('purchase_days.previous_purchase_date', 'purchase_days.purchase_date', 'day') }}
            as gap_days,
        {{ dbt.datediff('purchase_days.first_purchase_date', 'purchase_days.purchase_date', 'day') }}
            as days_since_first_purchase,
        {%- for kind in ['at_risk', 'lapsed'] %}
            {%- set by_rhythm = 'cast(ceiling(thresholds.' ~ kind ~ '_rhythm_multiple * rhythms.rhythm_days) as '
                ~ dbt.type_int() ~ ')' %}
            case
                when rhythms.rhythm_days is null then thresholds.{{ kind }}_default_days
                when {{ by_rhythm }} < thresholds.{{ kind }}_min_days then thresholds.{{ kind }}_min_days
                when {{ by_rhythm }} > thresholds.{{ kind }}_max_days then thresholds.{{ kind }}_max_days
                else {{ by_rhythm }}
            end as {{ kind }}_after_days,
        {%- endfor %}
        rhythms.rhythm_days
    from purchase_days
    cross join thresholds
    left join rhythms
        on
            purchase_days.customer_key = rhythms.customer_key
            and purchase_days.purchase_number = rhythms.purchase_number
),

final as (
    select
        {{ dbt.concat(['customer_key', "'|'", as_text('purchase_date')]) }} as purchase_day_id,
        customer_key,
        purchase_date,
        purchase_number,
        first_order_id,
        first_ordered_at,
        orders_count,
        net_revenue,
        gross_margin,
        first_purchase_date,
        previous_purchase_date,
        next_purchase_date,
        gap_days,
        days_since_first_purchase,
        rhythm_days,
        case when rhythm_days is null then 'default' else 'own' end as rhythm_source,
        at_risk_after_days,
        -- Lapsed never comes before at risk, whatever the seed says.
        greatest(lapsed_after_days, at_risk_after_days + 1) as lapsed_after_days,
        -- The purchase ended a lapse: the silence before it passed the lapsed
        -- threshold in force after the previous purchase (a purchase on the
        -- very day the customer would have lapsed comes first).
        coalesce(
            gap_days > lag(greatest(lapsed_after_days, at_risk_after_days + 1)) over (
                partition by customer_key order by purchase_date
            ),
            false
        ) as is_reactivation
    from with_thresholds
)

select * from final
