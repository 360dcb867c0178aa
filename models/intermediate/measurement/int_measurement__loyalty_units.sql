{#-
  The observations loyalty_program_effect compares, one row per unit: a
  member at their (first) join date, or a non-member at the first day of a
  month in which members joined (the "anchor"). Per unit: the orders,
  revenue and margin in the var measurement_loyalty_post_days from the anchor
  (post-period) and in the var measurement_loyalty_pre_days before it
  (pre-period; the first purchase is left out, so the pre-period rate is the
  repeat-purchase rate, which does not depend on when the first purchase
  fell), the exposure (pre-period days since the first purchase), and the
  strata bins of seeds/measurement_loyalty_strata_bins.
  Members: with a purchase before joining and a post-period over by the as-of
  date. Non-members: customers with a shop account (only they can join), a
  purchase before the anchor and no membership before the post-period ends
  (later joiners are "not yet treated" controls); at most var
  measurement_loyalty_control_sample_size of them, a deterministic hash
  sample. is_active_after says whether the customer bought again at or after
  the end of the post-period (by the as-of date).
-#}
{%- set pre_days = var('measurement_loyalty_pre_days', 365) -%}
{%- set post_days = var('measurement_loyalty_post_days', 90) -%}
{%- set sample_size = var('measurement_loyalty_control_sample_size', 50000) -%}
{%- set float_type = measurement_type_double() -%}
with

memberships as (
    select
        customer_key,
        joined_at
    from {{ ref('int_customer__loyalty_memberships') }}
    where joined_at < {{ as_of_upper_bound() }}
),

orders as (
    select
        order_id,
        customer_key,
        ordered_at,
        net_amount,
        net_amount - cost_amount as margin_amount
    from {{ ref('int_customer__orders') }}
    where
        not is_cancelled
        and ordered_at < {{ as_of_upper_bound() }}
),

account_customers as (
    select distinct customer_key
    from {{ ref('int_identity__account_keys') }}
),

bins as (
    select
        bin_dimension,
        lower_bound
    from {{ ref('measurement_loyalty_strata_bins') }}
),

first_joins as (
    select
        customer_key,
        min(joined_at) as joined_at
    from memberships
    group by customer_key
),

numbered_orders as (
    select
        customer_key,
        ordered_at,
        net_amount,
        margin_amount,
        row_number() over (partition by customer_key order by ordered_at, order_id) as order_number
    from orders
),

purchase_span as (
    select
        customer_key,
        min(ordered_at) as first_purchase_at,
        max(ordered_at) as last_purchase_at
    from orders
    group by customer_key
),

members as (
    select
        first_joins.customer_key,
        'member' as unit_group,
        first_joins.joined_at as anchor_at,
        {{ dbt.date_trunc('month', 'first_joins.joined_at') }} as cohort_month
    from first_joins
    inner join purchase_span
        on
            first_joins.customer_key = purchase_span.customer_key
            and first_joins.joined_at > purchase_span.first_purchase_at
    where {{ dbt.dateadd('day', post_days, 'first_joins.joined_at') }} <= {{ as_of_upper_bound() }}
),

cohorts as (
    select distinct
        cohort_month,
        cast(cohort_month as {{ dbt.type_timestamp() }}) as anchor_at
    from members
),

control_sample as (
    {{ hash_sample('account_customers', sample_size) }}
),

controls as (
    select
        control_sample.customer_key,
        'control' as unit_group,
        cohorts.anchor_at,
        cohorts.cohort_month
    from control_sample
    inner join purchase_span on control_sample.customer_key = purchase_span.customer_key
    cross join cohorts
    left join first_joins on control_sample.customer_key = first_joins.customer_key
    where
        purchase_span.first_purchase_at < cohorts.anchor_at
        and (
            first_joins.joined_at is null
            or first_joins.joined_at >= {{ dbt.dateadd('day', post_days, 'cohorts.anchor_at') }}
        )
),

units as (
    select
        customer_key,
        unit_group,
        anchor_at,
        cohort_month
    from members
    union all
    select
        customer_key,
        unit_group,
        anchor_at,
        cohort_month
    from controls
),

unit_orders as (
    select
        units.customer_key,
        units.unit_group,
        units.anchor_at,
        {%- for measure, column in [('orders', '1'), ('revenue', 'numbered_orders.net_amount'),
                                    ('margin', 'numbered_orders.margin_amount')] %}
            coalesce(sum(
                case
                    when
                        numbered_orders.order_number > 1
                        and numbered_orders.ordered_at < units.anchor_at
                        and numbered_orders.ordered_at >= {{ dbt.dateadd('day', -pre_days, 'units.anchor_at') }}
                        then {{ column }}
                end
            ), 0) as pre_{{ measure }},
            coalesce(sum(
                case
                    when numbered_orders.ordered_at >= units.anchor_at then {{ column }}
                end
            ), 0) as post_{{ measure }},
        {%- endfor %}
        max(case when numbered_orders.ordered_at < units.anchor_at then numbered_orders.ordered_at end)
            as last_purchase_before_at
    from units
    inner join numbered_orders
        on
            units.customer_key = numbered_orders.customer_key
            and numbered_orders.ordered_at < {{ dbt.dateadd('day', post_days, 'units.anchor_at') }}
    group by units.customer_key, units.unit_group, units.anchor_at
),

measured as (
    select
        units.customer_key,
        units.unit_group,
        units.anchor_at,
        units.cohort_month,
        {{ dbt.datediff('purchase_span.first_purchase_at', 'units.anchor_at', 'day') }}
            as tenure_days,
        {{ dbt.datediff('unit_orders.last_purchase_before_at', 'units.anchor_at', 'day') }}
            as days_since_last_purchase,
        cast(unit_orders.pre_orders as {{ dbt.type_int() }}) as pre_orders,
        unit_orders.pre_revenue,
        unit_orders.pre_margin,
        cast(unit_orders.post_orders as {{ dbt.type_int() }}) as post_orders,
        unit_orders.post_revenue,
        unit_orders.post_margin,
        purchase_span.last_purchase_at >= {{ dbt.dateadd('day', post_days, 'units.anchor_at') }}
            as is_active_after
    from units
    inner join purchase_span on units.customer_key = purchase_span.customer_key
    inner join unit_orders
        on
            units.customer_key = unit_orders.customer_key
            and units.unit_group = unit_orders.unit_group
            and units.anchor_at = unit_orders.anchor_at
),

binned as (
    select
        measured.customer_key,
        measured.unit_group,
        measured.anchor_at,
        max(
            case
                when bins.bin_dimension = 'pre_orders' and measured.pre_orders >= bins.lower_bound
                    then bins.lower_bound
            end
        ) as pre_orders_bin,
        max(
            case
                when bins.bin_dimension = 'tenure_days' and measured.tenure_days >= bins.lower_bound
                    then bins.lower_bound
            end
        ) as tenure_bin,
        max(
            case
                when bins.bin_dimension = 'recency_days' and measured.days_since_last_purchase >= bins.lower_bound
                    then bins.lower_bound
            end
        ) as recency_bin
    from measured
    cross join bins
    group by measured.customer_key, measured.unit_group, measured.anchor_at
),

final as (
    select
        {{ dbt.concat(['measured.unit_group', "'|'", 'measured.customer_key', "'|'",
            as_text('measured.anchor_at')]) }} as unit_id,
        measured.customer_key,
        measured.unit_group,
        measured.unit_group = 'member' as is_member,
        measured.anchor_at,
        cast(measured.cohort_month as date) as cohort_month,
        measured.tenure_days,
        -- Days of the pre-period after the first purchase (at least 1).
        case
            when measured.tenure_days < 1 then 1
            when measured.tenure_days < {{ pre_days }} then measured.tenure_days
            else {{ pre_days }}
        end as exposure_days,
        measured.days_since_last_purchase,
        measured.pre_orders,
        measured.pre_revenue,
        measured.pre_margin,
        measured.post_orders,
        measured.post_revenue,
        measured.post_margin,
        measured.is_active_after,
        binned.pre_orders_bin,
        binned.tenure_bin,
        binned.recency_bin,
        {{ dbt.concat([as_text('cast(measured.cohort_month as date)'), "'|'", as_text('binned.pre_orders_bin'),
            "'|'", as_text('binned.tenure_bin'), "'|'", as_text('binned.recency_bin')]) }} as stratum_id
    from measured
    inner join binned
        on
            measured.customer_key = binned.customer_key
            and measured.unit_group = binned.unit_group
            and measured.anchor_at = binned.anchor_at
)

select
    unit_id,
    customer_key,
    unit_group,
    is_member,
    anchor_at,
    cohort_month,
    tenure_days,
    exposure_days,
    days_since_last_purchase,
    pre_orders,
    pre_revenue,
    pre_margin,
    post_orders,
    post_revenue,
    post_margin,
    cast(pre_orders as {{ float_type }}) * {{ post_days }} / exposure_days as pre_orders_per_period,
    post_orders - cast(pre_orders as {{ float_type }}) * {{ post_days }} / exposure_days as orders_change,
    post_revenue - cast(pre_revenue as {{ float_type }}) * {{ post_days }} / exposure_days as revenue_change,
    post_margin - cast(pre_margin as {{ float_type }}) * {{ post_days }} / exposure_days as margin_change,
    is_active_after,
    pre_orders_bin,
    tenure_bin,
    recency_bin,
    stratum_id
from final
