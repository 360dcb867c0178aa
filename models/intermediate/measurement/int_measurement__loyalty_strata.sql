{#-
  The sums loyalty_program_effect estimates from, one row per estimate and
  stratum (macros/measurement/measurement_lists.sql, measurement_loyalty_estimates):
  per group (m: members, c: non-members) the units, the sum and sum of squares
  of each measure's outcome (the post-period for the naive estimate, the
  change against the pre-period rate for the matched ones), the pre- and
  post-period order rates and the units whose orders exceeded their
  pre-period rate. Every stratum is kept; loyalty_program_effect decides
  which are matched.
-#}
{%- set measures = measurement_loyalty_measures() -%}
{%- set float_type = measurement_type_double() -%}
with

units as (
    select
        customer_key,
        is_member,
        cohort_month,
        stratum_id,
        post_orders,
        post_revenue,
        post_margin,
        pre_orders_per_period,
        orders_change,
        revenue_change,
        margin_change,
        is_active_after
    from {{ ref('int_measurement__loyalty_units') }}
),

estimate_units as (
    {%- for estimate in measurement_loyalty_estimates() %}
        select
            '{{ estimate.name }}' as estimate,
            {{ estimate.stratum }} as stratum_id,
            is_member,
            {%- for measure in measures %}
                cast({{ estimate.outcome.format(measure) }} as {{ float_type }}) as y_{{ measure }},
            {%- endfor %}
            cast(pre_orders_per_period as {{ float_type }}) as pre_rate,
            cast(post_orders as {{ float_type }}) as post_rate,
            {%- if estimate.share %}
                case when orders_change > 0 then 1 else 0 end as is_exceeding
            {%- else %}
                0 as is_exceeding
            {%- endif %}
        from units
        where {{ estimate.filter }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        estimate,
        stratum_id,
        {%- for group, condition in [('m', 'is_member'), ('c', 'not is_member')] %}
            sum(case when {{ condition }} then 1 else 0 end) as n_{{ group }},
            {%- for measure in measures %}
                {%- set value = 'y_' ~ measure %}
                {{ exact_sum('case when ' ~ condition ~ ' then ' ~ value ~ ' else 0 end') }}
                    as s_{{ measure }}_{{ group }},
                {{ exact_sum('case when ' ~ condition ~ ' then ' ~ value ~ ' * ' ~ value ~ ' else 0 end') }}
                    as ss_{{ measure }}_{{ group }},
            {%- endfor %}
            {{ exact_sum('case when ' ~ condition ~ ' then pre_rate else 0 end') }} as pre_{{ group }},
            {{ exact_sum('case when ' ~ condition ~ ' then post_rate else 0 end') }} as post_{{ group }},
            sum(case when {{ condition }} then is_exceeding else 0 end) as exceeding_{{ group }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from estimate_units
    group by estimate, stratum_id
)

select * from final
