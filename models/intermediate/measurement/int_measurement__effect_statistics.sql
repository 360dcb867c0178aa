{#-
  The statistics of treatment_effects, one row per cell of
  int_measurement__effect_sums, for each metric (measurement_effect_metrics):
  each arm's mean, the uplift with its interval, the relative uplift, the
  test, the minimum detectable effect and the flags. The methods are those of
  treatment_effects' YAML: rates by the pooled two-proportion z-test with
  Agresti-Caffo intervals, means by Welch's t-test (t reached through
  Wallace's normal approximation, macros/measurement/statistics.sql),
  relative intervals by the delta method on the log ratio, two-sided
  p-values. Only cells with var measurement_min_group_size customers in each
  arm get statistics (has_enough_data); a null interval carries its reason
  (macros/measurement/null_reasons.sql).
  Repeated assignment: one customer's assignments in a cell are a cluster
  (daily runs assign the same customers again and again). Each arm's
  variance of its mean is the cluster-robust one (ratio estimator with
  g / (g - 1), int_measurement__effect_sums' cluster sums of squares); its
  ratio to the independent-assignment variance is the arm's design effect
  (at least 1), and every method above runs on the effective sizes n / deff
  (Rao & Scott 1992: rates' successes and trials both divided by it), with
  Welch's degrees of freedom counted in customers. When every customer is
  assigned once, the design effect is exactly 1 and every figure is the
  unclustered method's.
  An arm without variance in a mean (nobody in it bought) while the other
  arm has some takes the other arm's per-assignment variance, as under the
  null of no effect (measurement_null_variance): the standard error is then
  a multiple of that arm's variance alone, so its Welch-Satterthwaite
  degrees of freedom are that arm's customers - 1.
-#}
{%- set metrics = measurement_effect_metrics() -%}
{%- set nullable = measurement_effect_outcomes() | selectattr('nullable') | map(attribute='name') | list -%}
{%- set alpha = var('measurement_alpha', 0.05) | float -%}
{%- set min_group = [var('measurement_min_group_size', 50) | int, 2] | max -%}
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
        n_customers_treated,
        n_customers_control,
        cast(n_customers_treated as {{ float_type }}) as g_t,
        cast(n_customers_control as {{ float_type }}) as g_c,
        {%- for metric in metrics %}
            {#- An outcome unknown for some assignment (margin without a cost): not estimated in the cell. #}
            {%- set known = 'coalesce(' ~ metric.outcome ~ '_unknown, 0) = 0'
                if metric.outcome in nullable else 'true' %}
            {{ known }} as {{ metric.name }}__is_known,
            case when {{ known }} then {{ metric.outcome }}_sum_treated end as {{ metric.name }}__sum_t,
            case when {{ known }} then {{ metric.outcome }}_sum_control end as {{ metric.name }}__sum_c,
            case when {{ known }} then {{ metric.outcome }}_sumsq_treated end as {{ metric.name }}__sumsq_t,
            case when {{ known }} then {{ metric.outcome }}_sumsq_control end as {{ metric.name }}__sumsq_c,
            case when {{ known }} then {{ metric.outcome }}_cluster_ss_treated end as {{ metric.name }}__cluster_ss_t,
            case when {{ known }} then {{ metric.outcome }}_cluster_ss_control end as {{ metric.name }}__cluster_ss_c,
        {%- endfor %}
        n_treated >= {{ min_group }} and n_control >= {{ min_group }} as has_enough_data
    from {{ ref('int_measurement__effect_sums') }}
),

-- Each arm's design effect: the variance of its mean with one customer's
-- assignments as a cluster (ratio estimator, small-sample factor g / (g - 1):
-- the CR1 sandwich of the arm's mean) over the variance if they were
-- independent (sample variance / n); exactly 1 when every customer is
-- assigned once. An arm of repeated customers without any variance (nobody
-- in it bought) shows nothing about their correlation: it takes the other
-- arm's design effect (1 if neither has one), so its effective size still
-- counts its customers rather than its assignments. Null below 2 customers.
design as (
    select
        effect_id,
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {%- set estimate = {} %}
            {%- for arm in ['t', 'c'] %}
                {%- set variance = measurement_variance('n_' ~ arm, m ~ '__sum_' ~ arm, m ~ '__sumsq_' ~ arm) %}
                {%- do estimate.update({arm: 'case when g_' ~ arm ~ ' >= 2 and g_' ~ arm ~ ' = n_' ~ arm ~ ' then 1.0'
                    ~ ' when g_' ~ arm ~ ' >= 2 and ' ~ variance ~ ' > 0 then g_' ~ arm ~ ' / (g_' ~ arm ~ ' - 1) * '
                    ~ m ~ '__cluster_ss_' ~ arm ~ ' / (n_' ~ arm ~ ' * ' ~ variance ~ ') end'}) %}
            {%- endfor %}
            {%- for arm, other in [('t', 'c'), ('c', 't')] %}
                case
                    when g_{{ arm }} >= 2 then coalesce({{ estimate[arm] }}, {{ estimate[other] }}, 1.0)
                end as {{ m }}__deff_{{ arm }},
            {%- endfor %}
        {%- endfor %}
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {%- if metric.kind != 'proportion' %}
                {{ measurement_variance('n_t', m ~ '__sum_t', m ~ '__sumsq_t') }} as {{ m }}__sample_var_t,
                {{ measurement_variance('n_c', m ~ '__sum_c', m ~ '__sumsq_c') }} as {{ m }}__sample_var_c,
            {%- endif %}
            {{ m }}__sum_t,
            {{ m }}__sum_c,
        {%- endfor %}
        n_t,
        n_c,
        g_t,
        g_c,
        has_enough_data
    from sums
),

-- Means and per-assignment variances of each arm, and its effective size: n
-- over the design effect (at least 1: repetition is never taken to make an
-- estimate more precise than independent assignments would). For a mean, an
-- arm without variance while the other has some takes the other's (as under
-- no effect; measurement_null_variance), and says so for the degrees of
-- freedom.
moments as (
    select
        effect_id,
        n_t,
        n_c,
        g_t,
        g_c,
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            case when {{ m }}__deff_t is not null then n_t / greatest({{ m }}__deff_t, 1.0) end
                as {{ m }}__neff_t,
            case when {{ m }}__deff_c is not null then n_c / greatest({{ m }}__deff_c, 1.0) end
                as {{ m }}__neff_c,
        {%- endfor %}
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {{ m }}__sum_t / nullif(n_t, 0) as {{ m }}__mean_t,
            {{ m }}__sum_c / nullif(n_c, 0) as {{ m }}__mean_c,
            {%- if metric.kind == 'proportion' %}
                ({{ m }}__sum_t / nullif(n_t, 0)) * (1 - {{ m }}__sum_t / nullif(n_t, 0)) as {{ m }}__var_t,
                ({{ m }}__sum_c / nullif(n_c, 0)) * (1 - {{ m }}__sum_c / nullif(n_c, 0)) as {{ m }}__var_c,
                {#- Rao-Scott: successes and trials both divided by the arm's design effect. #}
                {%- set x_t = '(' ~ m ~ '__sum_t / greatest(' ~ m ~ '__deff_t, 1.0))' %}
                {%- set x_c = '(' ~ m ~ '__sum_c / greatest(' ~ m ~ '__deff_c, 1.0))' %}
                {%- set n_t = '(n_t / greatest(' ~ m ~ '__deff_t, 1.0))' %}
                {%- set n_c = '(n_c / greatest(' ~ m ~ '__deff_c, 1.0))' %}
                ({{ x_t }} + {{ x_c }}) / nullif({{ n_t }} + {{ n_c }}, 0) as {{ m }}__pooled,
                ({{ x_t }} + 1) / ({{ n_t }} + 2) as {{ m }}__adjusted_t,
                ({{ x_c }} + 1) / ({{ n_c }} + 2) as {{ m }}__adjusted_c,
            {%- else %}
                {{ measurement_null_variance(m ~ '__sample_var_t', m ~ '__sample_var_c') }} as {{ m }}__var_t,
                {{ measurement_null_variance(m ~ '__sample_var_c', m ~ '__sample_var_t') }} as {{ m }}__var_c,
                coalesce({{ m }}__sample_var_t = 0 and {{ m }}__sample_var_c > 0, false) as {{ m }}__is_var_borrowed_t,
                coalesce({{ m }}__sample_var_c = 0 and {{ m }}__sample_var_t > 0, false) as {{ m }}__is_var_borrowed_c,
                cast(null as {{ float_type }}) as {{ m }}__pooled,
                cast(null as {{ float_type }}) as {{ m }}__adjusted_t,
                cast(null as {{ float_type }}) as {{ m }}__adjusted_c,
            {%- endif %}
        {%- endfor %}
        has_enough_data
    from design
),

-- The design effect of the uplift: its variance with clusters over its
-- variance as if every assignment were independent (both unpooled).
design_effects as (
    select
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            ({{ m }}__var_t / {{ m }}__neff_t + {{ m }}__var_c / {{ m }}__neff_c)
            / nullif({{ m }}__var_t / n_t + {{ m }}__var_c / n_c, 0) as {{ m }}__design_effect,
        {%- endfor %}
        effect_id
    from moments
),


-- Standard errors: unpooled for intervals, under no effect for tests and the
-- MDE, all over the effective sizes (the clustered variance of each arm's
-- mean); Welch-Satterthwaite degrees of freedom from the customers (the
-- clusters) of each arm. With one assignment per customer all is as before.
-- When one arm borrowed the other's variance, the variance of the uplift is
-- s^2 x deff x (1 / n_t + 1 / n_c) with s^2 and deff of the other arm alone:
-- Satterthwaite's formula over that single estimate gives its degrees of
-- freedom, the other arm's customers - 1 (not the two-arm formula, which
-- would count the borrowed copy as independent evidence).
errors as (
    select
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {{ m }}__mean_t,
            {{ m }}__mean_c,
            -- Delta-method variance of the log of each arm's mean (positive means only).
            case
                when {{ m }}__mean_t > 0 and {{ m }}__mean_c > 0
                    then {{ m }}__var_t / ({{ m }}__neff_t * {{ m }}__mean_t * {{ m }}__mean_t)
            end as {{ m }}__relative_var_t,
            case
                when {{ m }}__mean_t > 0 and {{ m }}__mean_c > 0
                    then {{ m }}__var_c / ({{ m }}__neff_c * {{ m }}__mean_c * {{ m }}__mean_c)
            end as {{ m }}__relative_var_c,
            sqrt({{ m }}__var_t / {{ m }}__neff_t + {{ m }}__var_c / {{ m }}__neff_c) as {{ m }}__se,
            {%- if metric.kind == 'proportion' %}
                sqrt({{ m }}__pooled * (1 - {{ m }}__pooled) * (1 / {{ m }}__neff_t + 1 / {{ m }}__neff_c))
                    as {{ m }}__se_null,
                cast(null as {{ float_type }}) as {{ m }}__df,
                {{ m }}__adjusted_t - {{ m }}__adjusted_c as {{ m }}__interval_center,
                sqrt(
                    {{ m }}__adjusted_t * (1 - {{ m }}__adjusted_t) / ({{ m }}__neff_t + 2)
                    + {{ m }}__adjusted_c * (1 - {{ m }}__adjusted_c) / ({{ m }}__neff_c + 2)
                ) as {{ m }}__interval_se,
            {%- else %}
                sqrt({{ m }}__var_t / {{ m }}__neff_t + {{ m }}__var_c / {{ m }}__neff_c) as {{ m }}__se_null,
                -- Welch-Satterthwaite degrees of freedom.
                case
                    when {{ m }}__is_var_borrowed_c then g_t - 1
                    when {{ m }}__is_var_borrowed_t then g_c - 1
                    else
                        power({{ m }}__var_t / {{ m }}__neff_t + {{ m }}__var_c / {{ m }}__neff_c, 2)
                        / nullif(
                            power({{ m }}__var_t / {{ m }}__neff_t, 2) / (g_t - 1)
                            + power({{ m }}__var_c / {{ m }}__neff_c, 2) / (g_c - 1),
                            0
                        )
                end as {{ m }}__df,
                {{ m }}__mean_t - {{ m }}__mean_c as {{ m }}__interval_center,
                sqrt({{ m }}__var_t / {{ m }}__neff_t + {{ m }}__var_c / {{ m }}__neff_c) as {{ m }}__interval_se,
            {%- endif %}
        {%- endfor %}
        effect_id
    from moments
    where has_enough_data
),

tests as (
    select
        {%- for metric in metrics %}
            {%- set m = metric.name %}
            {{ m }}__mean_t - {{ m }}__mean_c as {{ m }}__uplift,
            {{ m }}__se_null,
            {{ m }}__df,
            {{ m }}__interval_center,
            {{ m }}__interval_se,
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
        effect_id
    from errors
),

statistics as (
    select
        {%- for m in metrics | map(attribute='name') %}
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

final as (
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
        sums.n_customers_treated,
        sums.n_customers_control,
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
                'moments.' ~ m ~ '__var_t', 'moments.' ~ m ~ '__var_c',
                'sums.n_customers_treated', 'sums.n_customers_control') }}
                as {{ m }}_interval_null_reason,
            design_effects.{{ m }}__design_effect as {{ m }}_design_effect,
            moments.{{ m }}__neff_t as {{ m }}_effective_n_treated,
            moments.{{ m }}__neff_c as {{ m }}_effective_n_control,
        {%- endfor %}
        sums.margin_per_customer__is_known as is_margin_known
    from sums
    inner join moments on sums.effect_id = moments.effect_id
    inner join design_effects on sums.effect_id = design_effects.effect_id
    left join statistics on sums.effect_id = statistics.effect_id
)

select * from final
