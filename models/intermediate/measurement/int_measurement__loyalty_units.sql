{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 21 MiB there. -#}
{{ config(materialized='view') }}
{#-
  The observations loyalty_program_effect compares, one row per unit of
  int_measurement__loyalty_anchors (a member at their join date, or a
  non-member at the first day of a join month: the "anchor"). Per unit: the
  orders, revenue and margin in the var measurement_loyalty_post_days from
  the anchor (post-period) and in the var measurement_loyalty_pre_days before
  it (pre-period; the first purchase is left out, so the pre-period rate is
  the repeat-purchase rate, which does not depend on when the first purchase
  fell), the exposure (pre-period days since the first purchase), each
  measure's change (post-period minus the pre-period rate scaled to the
  post-period's length), and the strata bins of
  seeds/measurement_loyalty_strata_bins. is_active_after says whether the
  customer bought again at or after the end of the post-period (by the as-of date).
-#}
{%- set pre_days = var('measurement_loyalty_pre_days', 365) -%}
{%- set post_days = var('measurement_loyalty_post_days', 90) -%}
{%- set float_type = measurement_type_double() -%}
{%- set measures = [('orders', '1'), ('revenue', 'numbered_orders.net_amount'),
                    ('margin', 'numbered_orders.margin_amount')] -%}
{#- Strata dimensions: the seed's bin_dimension, the unit's column, the bin column. -#}
{%- set strata = [('pre_orders', 'pre_orders', 'pre_orders_bin'), ('tenure_days', 'tenure_days', 'tenure_bin'),
                  ('recency_days', 'days_since_last_purchase', 'recency_bin')] -%}
with

units as (
    select
        unit_id,
        customer_key,
        unit_group,
        anchor_at,
        cohort_month,
        first_purchase_at,
        last_purchase_at
    from {{ ref('int_measurement__loyalty_anchors') }}
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

bins as (
    select
        bin_dimension,
        lower_bound
    from {{ ref('measurement_loyalty_strata_bins') }}
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

unit_orders as (
    select
        units.unit_id,
        {%- for measure, column in measures %}
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
    group by units.unit_id
),

measured as (
    select
        units.unit_id,
        units.customer_key,
        units.unit_group,
        units.anchor_at,
        units.cohort_month,
        {{ dbt.datediff('units.first_purchase_at', 'units.anchor_at', 'day') }}
            as tenure_days,
        {{ dbt.datediff('unit_orders.last_purchase_before_at', 'units.anchor_at', 'day') }}
            as days_since_last_purchase,
        cast(unit_orders.pre_orders as {{ dbt.type_int() }}) as pre_orders,
        unit_orders.pre_revenue,
        unit_orders.pre_margin,
        cast(unit_orders.post_orders as {{ dbt.type_int() }}) as post_orders,
        unit_orders.post_revenue,
        unit_orders.post_margin,
        units.last_purchase_at >= {{ dbt.dateadd('day', post_days, 'units.anchor_at') }} as is_active_after
    from units
    inner join unit_orders on units.unit_id = unit_orders.unit_id
),

binned as (
    select
        {%- for dimension, column, bin in strata %}
            max(
                case
                    when bins.bin_dimension = '{{ dimension }}' and measured.{{ column }} >= bins.lower_bound
                        then bins.lower_bound
                end
            ) as {{ bin }},
        {%- endfor %}
        measured.unit_id
    from measured
    cross join bins
    group by measured.unit_id
),

-- Days of the pre-period after the first purchase (at least 1).
exposed as (
    select
        unit_id,
        case
            when tenure_days < 1 then 1
            when tenure_days < {{ pre_days }} then tenure_days
            else {{ pre_days }}
        end as exposure_days
    from measured
),

final as (
    select
        measured.unit_id,
        measured.customer_key,
        measured.unit_group,
        measured.unit_group = 'member' as is_member,
        measured.anchor_at,
        measured.cohort_month,
        measured.tenure_days,
        exposed.exposure_days,
        measured.days_since_last_purchase,
        measured.pre_orders,
        measured.pre_revenue,
        measured.pre_margin,
        measured.post_orders,
        measured.post_revenue,
        measured.post_margin,
        cast(measured.pre_orders as {{ float_type }}) * {{ post_days }} / exposed.exposure_days
            as pre_orders_per_period,
        {%- for measure, column in measures %}
            measured.post_{{ measure }} - cast(measured.pre_{{ measure }} as {{ float_type }}) * {{ post_days }}
            / exposed.exposure_days as {{ measure }}_change,
        {%- endfor %}
        measured.is_active_after,
        binned.pre_orders_bin,
        binned.tenure_bin,
        binned.recency_bin,
        {{ dbt.concat([as_text('measured.cohort_month'), "'|'", as_text('binned.pre_orders_bin'),
            "'|'", as_text('binned.tenure_bin'), "'|'", as_text('binned.recency_bin')]) }} as stratum_id
    from measured
    inner join binned on measured.unit_id = binned.unit_id
    inner join exposed on measured.unit_id = exposed.unit_id
)

select * from final
