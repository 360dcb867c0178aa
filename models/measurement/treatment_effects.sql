{#-
  What each campaign caused, against its control group: per campaign and
  treatment, overall and per needs segment, value tier and lifecycle stage at
  assignment (dimension / dimension_value), for four metrics (visit rate,
  conversion rate, revenue and margin per customer). Intent to treat: every
  customer assigned to the treatment counts, reached or not.
  - Rates: two-proportion z-test with the pooled standard error; the interval
    is Agresti-Caffo's (each arm's rate and standard error with one success
    and one failure added), which keeps its coverage in small cells and at
    rates near 0 where the plain Wald interval is far too narrow.
  - Means: Welch's unequal-variance t-test; the t distribution is reached
    through Wallace's normal approximation (macros/measurement/statistics.sql).
  - Relative uplift: treated / control - 1, interval by the delta method on
    the log of the ratio (null when either mean is not positive).
  - p-values are two-sided; the normal CDF is Abramowitz-Stegun 7.1.26.
  - Minimum detectable effect: (critical value at alpha + quantile of the
    power) x the standard error under no effect; a metric is underpowered
    when its observed uplift is smaller than that: a true effect of the
    observed size would be detected with less than the configured power, so a
    non-significant result is inconclusive and a significant one likely
    overstated.
  Statistics are computed only for cells with at least var
  measurement_min_group_size customers in each arm (has_enough_data).
  Arms of an outside experiment sharing one control group are each compared
  with the whole shared control (n_control_shared of n_control); their
  estimates are correlated through it. A null interval or ROI carries its
  reason (<metric>_interval_null_reason, roi_null_reason;
  macros/measurement/null_reasons.sql): treatment codes not in the activation
  catalog are measured without cost or ROI.
-#}
{%- set metrics = measurement_effect_metrics() -%}
{%- set nullable = measurement_effect_outcomes() | selectattr('nullable') | map(attribute='name') | list -%}
{%- set alpha = var('measurement_alpha', 0.05) | float -%}
{%- set power = var('measurement_power', 0.8) | float -%}
{%- set min_group = [var('measurement_min_group_size', 50) | int, 2] | max -%}
{%- set primary = var('measurement_primary_metric', 'conversion_rate') -%}
{%- if primary not in metrics | map(attribute='name') | list -%}
    {{ exceptions.raise_compiler_error("var measurement_primary_metric must be one of "
        ~ (metrics | map(attribute='name') | join(', ')) ~ "; got " ~ primary) }}
{%- endif -%}
{%- set z_alpha = measurement_critical_z() -%}
{%- set z_power = measurement_power_z() -%}
{%- set float_type = measurement_type_double() -%}
with

sums as (
    select
        effect_id,
        campaign_id,
        treatment_code,
        dimension,
        dimension_value,
        dimension_label,
        dimension_order,
        cast(n_treated as {{ float_type }}) as n_t,
        cast(n_control as {{ float_type }}) as n_c,
        n_treated,
        n_control,
        n_control_shared,
        {%- for metric in metrics %}
            {#- An outcome unknown for some assignment (margin without a cost): not estimated in the cell. #}
            {%- set known = 'coalesce(' ~ metric.outcome ~ '_unknown, 0) = 0'
                if metric.outcome in nullable else 'true' %}
            {{ known }} as {{ metric.name }}__is_known,
            case when {{ known }} then {{ metric.outcome }}_sum_treated end as {{ metric.name }}__sum_t,
            case when {{ known }} then {{ metric.outcome }}_sum_control end as {{ metric.name }}__sum_c,
            case when {{ known }} then {{ metric.outcome }}_sumsq_treated end as {{ metric.name }}__sumsq_t,
            case when {{ known }} then {{ metric.outcome }}_sumsq_control end as {{ metric.name }}__sumsq_c,
        {%- endfor %}
        n_treated >= {{ min_group }} and n_control >= {{ min_group }} as has_enough_data
    from {{ ref('int_measurement__effect_sums') }}
),

treatments as (
    select
        treatment_code,
        cost_per_contact
    from {{ ref('activation_treatments') }}
),

-- Means and per-customer variances of each arm.
moments as (
    select
        effect_id,
        n_t,
        n_c,
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {{ m }}__sum_t / nullif(n_t, 0) as {{ m }}__mean_t,
            {{ m }}__sum_c / nullif(n_c, 0) as {{ m }}__mean_c,
            {%- if metric.kind == 'proportion' %}
                ({{ m }}__sum_t / nullif(n_t, 0)) * (1 - {{ m }}__sum_t / nullif(n_t, 0)) as {{ m }}__var_t,
                ({{ m }}__sum_c / nullif(n_c, 0)) * (1 - {{ m }}__sum_c / nullif(n_c, 0)) as {{ m }}__var_c,
                ({{ m }}__sum_t + {{ m }}__sum_c) / nullif(n_t + n_c, 0) as {{ m }}__pooled,
                ({{ m }}__sum_t + 1) / (n_t + 2) as {{ m }}__adjusted_t,
                ({{ m }}__sum_c + 1) / (n_c + 2) as {{ m }}__adjusted_c,
            {%- else %}
                {{ measurement_variance('n_t', m ~ '__sum_t', m ~ '__sumsq_t') }} as {{ m }}__var_t,
                {{ measurement_variance('n_c', m ~ '__sum_c', m ~ '__sumsq_c') }} as {{ m }}__var_c,
                cast(null as {{ float_type }}) as {{ m }}__pooled,
                cast(null as {{ float_type }}) as {{ m }}__adjusted_t,
                cast(null as {{ float_type }}) as {{ m }}__adjusted_c,
            {%- endif %}
        {%- endfor %}
        has_enough_data
    from sums
),

-- Standard errors: unpooled for intervals, under no effect for tests and the MDE.
errors as (
    select
        effect_id,
        has_enough_data,
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {{ m }}__mean_t,
            {{ m }}__mean_c,
            {{ m }}__var_t,
            {{ m }}__var_c,
            {{ m }}__adjusted_t,
            {{ m }}__adjusted_c,
            -- Delta-method variance of the log of each arm's mean (positive means only).
            case
                when {{ m }}__mean_t > 0 and {{ m }}__mean_c > 0
                    then {{ m }}__var_t / (n_t * {{ m }}__mean_t * {{ m }}__mean_t)
            end as {{ m }}__relative_var_t,
            case
                when {{ m }}__mean_t > 0 and {{ m }}__mean_c > 0
                    then {{ m }}__var_c / (n_c * {{ m }}__mean_c * {{ m }}__mean_c)
            end as {{ m }}__relative_var_c,
            sqrt({{ m }}__var_t / n_t + {{ m }}__var_c / n_c) as {{ m }}__se,
            {%- if metric.kind == 'proportion' %}
                sqrt({{ m }}__pooled * (1 - {{ m }}__pooled) * (1 / n_t + 1 / n_c)) as {{ m }}__se_null,
                cast(null as {{ float_type }}) as {{ m }}__df,
                {{ m }}__adjusted_t - {{ m }}__adjusted_c as {{ m }}__interval_center,
                sqrt(
                    {{ m }}__adjusted_t * (1 - {{ m }}__adjusted_t) / (n_t + 2)
                    + {{ m }}__adjusted_c * (1 - {{ m }}__adjusted_c) / (n_c + 2)
                ) as {{ m }}__interval_se,
            {%- else %}
                sqrt({{ m }}__var_t / n_t + {{ m }}__var_c / n_c) as {{ m }}__se_null,
                -- Welch-Satterthwaite degrees of freedom.
                power({{ m }}__var_t / n_t + {{ m }}__var_c / n_c, 2)
                / nullif(
                    power({{ m }}__var_t / n_t, 2) / (n_t - 1) + power({{ m }}__var_c / n_c, 2) / (n_c - 1), 0
                ) as {{ m }}__df,
                {{ m }}__mean_t - {{ m }}__mean_c as {{ m }}__interval_center,
                sqrt({{ m }}__var_t / n_t + {{ m }}__var_c / n_c) as {{ m }}__interval_se,
            {%- endif %}
        {%- endfor %}
        n_t,
        n_c
    from moments
    where has_enough_data
),

tests as (
    select
        effect_id,
        n_t,
        n_c,
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {{ m }}__mean_t - {{ m }}__mean_c as {{ m }}__uplift,
            {{ m }}__se,
            {{ m }}__se_null,
            {{ m }}__df,
            {{ m }}__interval_center,
            {{ m }}__interval_se,
            {{ m }}__relative_var_t,
            {{ m }}__relative_var_c,
            {%- if metric.kind == 'proportion' %}
                ({{ m }}__mean_t - {{ m }}__mean_c) / nullif({{ m }}__se_null, 0) as {{ m }}__statistic,
                ({{ m }}__mean_t - {{ m }}__mean_c) / nullif({{ m }}__se_null, 0) as {{ m }}__z,
                {{ z_alpha }} as {{ m }}__critical,
                {{ z_alpha + z_power }} as {{ m }}__mde_multiplier,
            {%- else %}
                ({{ m }}__mean_t - {{ m }}__mean_c) / nullif({{ m }}__se, 0) as {{ m }}__statistic,
                {{ measurement_t_to_z(
                    '((' ~ m ~ '__mean_t - ' ~ m ~ '__mean_c) / nullif(' ~ m ~ '__se, 0))', m ~ '__df') }}
                    as {{ m }}__z,
                {{ measurement_t_quantile(z_alpha, m ~ '__df') }} as {{ m }}__critical,
                {{ measurement_t_quantile(z_alpha, m ~ '__df') }}
                + {{ measurement_t_quantile(z_power, m ~ '__df') }} as {{ m }}__mde_multiplier,
            {%- endif %}
            sqrt({{ m }}__relative_var_t + {{ m }}__relative_var_c) as {{ m }}__se_log_ratio,
            case
                when {{ m }}__mean_t > 0 and {{ m }}__mean_c > 0
                    then ln({{ m }}__mean_t / {{ m }}__mean_c)
            end as {{ m }}__log_ratio,
        {%- endfor %}
        has_enough_data
    from errors
),

statistics as (
    select
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {{ m }}__uplift as {{ m }}_uplift,
            {{ m }}__interval_center - {{ m }}__critical * {{ m }}__interval_se as {{ m }}_uplift_lower,
            {{ m }}__interval_center + {{ m }}__critical * {{ m }}__interval_se as {{ m }}_uplift_upper,
            exp({{ m }}__log_ratio) - 1 as {{ m }}_relative_uplift,
            exp({{ m }}__log_ratio - {{ z_alpha }} * {{ m }}__se_log_ratio) - 1 as {{ m }}_relative_uplift_lower,
            exp({{ m }}__log_ratio + {{ z_alpha }} * {{ m }}__se_log_ratio) - 1 as {{ m }}_relative_uplift_upper,
            {{ m }}__statistic as {{ m }}_test_statistic,
            {{ m }}__df as {{ m }}_degrees_of_freedom,
            {{ measurement_two_sided_p_value(m ~ '__z') }} as {{ m }}_p_value,
            {{ m }}__mde_multiplier * {{ m }}__se_null as {{ m }}_minimum_detectable_effect,
            coalesce({{ measurement_two_sided_p_value(m ~ '__z') }} < {{ alpha }}, false) as {{ m }}_is_significant,
            coalesce(
                case
                    when {{ m }}__se_null > 0 then abs({{ m }}__uplift) < {{ m }}__mde_multiplier * {{ m }}__se_null
                    else true
                end,
                true
            ) as {{ m }}_is_underpowered,
        {%- endfor %}
        effect_id
    from tests
),

combined as (
    select
        sums.effect_id,
        sums.campaign_id,
        sums.treatment_code,
        sums.dimension,
        sums.dimension_value,
        sums.dimension_label,
        sums.dimension_order,
        sums.n_treated,
        sums.n_control,
        sums.n_control_shared,
        sums.has_enough_data,
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            moments.{{ m }}__mean_t as {{ m }}_treated,
            moments.{{ m }}__mean_c as {{ m }}_control,
            statistics.{{ m }}_uplift,
            statistics.{{ m }}_uplift_lower,
            statistics.{{ m }}_uplift_upper,
            statistics.{{ m }}_relative_uplift,
            statistics.{{ m }}_relative_uplift_lower,
            statistics.{{ m }}_relative_uplift_upper,
            statistics.{{ m }}_test_statistic,
            statistics.{{ m }}_degrees_of_freedom,
            statistics.{{ m }}_p_value,
            statistics.{{ m }}_minimum_detectable_effect,
            coalesce(statistics.{{ m }}_is_significant, false) as {{ m }}_is_significant,
            coalesce(statistics.{{ m }}_is_underpowered, true) as {{ m }}_is_underpowered,
            {{ measurement_interval_null_reason(
                metric, 'sums.has_enough_data', 'sums.' ~ m ~ '__is_known',
                'moments.' ~ m ~ '__var_t', 'moments.' ~ m ~ '__var_c') }}
                as {{ m }}_interval_null_reason,
        {%- endfor %}
        sums.margin_per_customer__is_known as is_margin_known,
        treatments.treatment_code is not null as is_in_catalog,
        treatments.cost_per_contact
    from sums
    inner join moments on sums.effect_id = moments.effect_id
    left join statistics on sums.effect_id = statistics.effect_id
    left join treatments on sums.treatment_code = treatments.treatment_code
),

final as (
    select
        effect_id,
        campaign_id,
        treatment_code,
        dimension,
        dimension_value,
        dimension_label,
        dimension_order,
        n_treated,
        n_control,
        n_control_shared,
        has_enough_data,
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {{ m }}_treated,
            {{ m }}_control,
            {{ m }}_uplift,
            {{ m }}_uplift_lower,
            {{ m }}_uplift_upper,
            {{ m }}_relative_uplift,
            {{ m }}_relative_uplift_lower,
            {{ m }}_relative_uplift_upper,
            {{ m }}_test_statistic,
            {{ m }}_degrees_of_freedom,
            {{ m }}_p_value,
            {{ m }}_minimum_detectable_effect,
            {{ m }}_is_significant,
            {{ m }}_is_underpowered,
            {{ m }}_interval_null_reason,
        {%- endfor %}
        conversion_rate_uplift * n_treated as incremental_conversions,
        revenue_per_customer_uplift * n_treated as incremental_revenue,
        revenue_per_customer_uplift_lower * n_treated as incremental_revenue_lower,
        revenue_per_customer_uplift_upper * n_treated as incremental_revenue_upper,
        margin_per_customer_uplift * n_treated as incremental_margin,
        margin_per_customer_uplift_lower * n_treated as incremental_margin_lower,
        margin_per_customer_uplift_upper * n_treated as incremental_margin_upper,
        cost_per_contact,
        cost_per_contact * n_treated as treatment_cost,
        (margin_per_customer_uplift * n_treated - cost_per_contact * n_treated)
        / nullif(cost_per_contact * n_treated, 0) as roi,
        (margin_per_customer_uplift_lower * n_treated - cost_per_contact * n_treated)
        / nullif(cost_per_contact * n_treated, 0) as roi_lower,
        (margin_per_customer_uplift_upper * n_treated - cost_per_contact * n_treated)
        / nullif(cost_per_contact * n_treated, 0) as roi_upper,
        {{ measurement_roi_null_reason('is_in_catalog', 'cost_per_contact', 'has_enough_data', 'is_margin_known') }}
            as roi_null_reason,
        '{{ primary }}' as primary_metric,
        {{ primary }}_interval_null_reason as interval_null_reason,
        {{ primary }}_is_significant as is_significant,
        {{ primary }}_is_underpowered as is_underpowered,
        case
            when not has_enough_data then 'insufficient_data'
            when {{ primary }}_is_significant and {{ primary }}_uplift > 0 then 'significant_increase'
            when {{ primary }}_is_significant then 'significant_decrease'
            else 'not_significant'
        end as verdict,
        {{ alpha }} as alpha,
        {{ power }} as statistical_power,
        {{ var('measurement_response_window_days', 30) }} as response_window_days,
        {{ as_of_date_literal() }} as as_of_date
    from combined
)

select
    effect_id,
    campaign_id,
    treatment_code,
    dimension,
    dimension_value,
    dimension_label,
    dimension_order,
    n_treated,
    n_control,
    n_control_shared,
    has_enough_data,
    {%- for metric in metrics %}
        {%- set m = metric.name %}
        {{ m }}_treated,
        {{ m }}_control,
        {{ m }}_uplift,
        {{ m }}_uplift_lower,
        {{ m }}_uplift_upper,
        {{ m }}_relative_uplift,
        {{ m }}_relative_uplift_lower,
        {{ m }}_relative_uplift_upper,
        {{ m }}_test_statistic,
        {{ m }}_degrees_of_freedom,
        {{ m }}_p_value,
        {{ m }}_minimum_detectable_effect,
        {{ m }}_is_significant,
        {{ m }}_is_underpowered,
        {{ m }}_interval_null_reason,
    {%- endfor %}
    incremental_conversions,
    incremental_revenue,
    incremental_revenue_lower,
    incremental_revenue_upper,
    incremental_margin,
    incremental_margin_lower,
    incremental_margin_upper,
    cost_per_contact,
    treatment_cost,
    roi,
    roi_lower,
    roi_upper,
    roi_null_reason,
    primary_metric,
    interval_null_reason,
    is_significant,
    is_underpowered,
    verdict,
    alpha,
    statistical_power,
    response_window_days,
    as_of_date
from final
