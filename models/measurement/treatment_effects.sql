{#-
  What each campaign caused, against its control group: per campaign and
  treatment, overall and per needs segment, value tier and lifecycle stage at
  assignment (dimension / dimension_value), the statistics of four metrics
  (int_measurement__effect_statistics: means, uplift, intervals, tests,
  flags), what they are worth (incremental conversions, revenue and margin,
  the treatment's cost and ROI) and the headline of the primary metric (var
  measurement_primary_metric). Arms of an outside experiment sharing one
  control group are each compared with the whole shared control
  (n_control_shared of n_control); their estimates are correlated through
  it. A null ROI carries its reason (roi_null_reason;
  macros/measurement/null_reasons.sql): treatment codes not in the activation
  catalog are measured without cost or ROI. Intervals and tests are
  clustered by customer (a customer assigned in many runs is one cluster);
  n_customers_* and <metric>_design_effect / _effective_n_* say how much
  information the repeated assignments carry.
-#}
{%- set metrics = measurement_effect_metrics() -%}
{%- set alpha = var('measurement_alpha', 0.05) | float -%}
{%- set power = var('measurement_power', 0.8) | float -%}
{%- set primary = var('measurement_primary_metric', 'conversion_rate') -%}
{%- if primary not in metrics | map(attribute='name') | list -%}
    {{ exceptions.raise_compiler_error("var measurement_primary_metric must be one of "
        ~ (metrics | map(attribute='name') | join(', ')) ~ "; got " ~ primary) }}
{%- endif -%}
{%- set metric_columns = [
    'treated', 'control', 'uplift', 'uplift_lower', 'uplift_upper',
    'relative_uplift', 'relative_uplift_lower', 'relative_uplift_upper',
    'test_statistic', 'degrees_of_freedom', 'p_value', 'minimum_detectable_effect',
    'is_significant', 'is_underpowered', 'interval_null_reason',
    'design_effect', 'effective_n_treated', 'effective_n_control',
] -%}
with

statistics as (
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
        n_customers_treated,
        n_customers_control,
        has_enough_data,
        {%- for metric in metrics %}
            {%- for column in metric_columns %}
                {{ metric.name }}_{{ column }},
            {%- endfor %}
        {%- endfor %}
        is_margin_known
    from {{ ref('int_measurement__effect_statistics') }}
),

treatments as (
    select
        treatment_code,
        cost_per_contact
    from {{ ref('activation_treatments') }}
),

final as (
    select
        statistics.effect_id,
        statistics.campaign_id,
        statistics.treatment_code,
        statistics.dimension,
        statistics.dimension_value,
        statistics.dimension_label,
        statistics.dimension_order,
        statistics.n_treated,
        statistics.n_control,
        statistics.n_control_shared,
        statistics.n_customers_treated,
        statistics.n_customers_control,
        statistics.has_enough_data,
        {%- for metric in metrics %}
            {%- for column in metric_columns %}
                statistics.{{ metric.name }}_{{ column }},
            {%- endfor %}
        {%- endfor %}
        statistics.conversion_rate_uplift * statistics.n_treated as incremental_conversions,
        {%- for money in ['revenue', 'margin'] %}
            {%- for bound in ['', '_lower', '_upper'] %}
                statistics.{{ money }}_per_customer_uplift{{ bound }} * statistics.n_treated
                    as incremental_{{ money ~ bound }},
            {%- endfor %}
        {%- endfor %}
        treatments.cost_per_contact,
        treatments.cost_per_contact * statistics.n_treated as treatment_cost,
        {%- for bound in ['', '_lower', '_upper'] %}
            (
                statistics.margin_per_customer_uplift{{ bound }} * statistics.n_treated
                - treatments.cost_per_contact * statistics.n_treated
            )
            / nullif(treatments.cost_per_contact * statistics.n_treated, 0) as roi{{ bound }},
        {%- endfor %}
        {{ measurement_roi_null_reason(
            '(treatments.treatment_code is not null)', 'treatments.cost_per_contact',
            'statistics.has_enough_data', 'statistics.is_margin_known') }}
            as roi_null_reason,
        '{{ primary }}' as primary_metric,
        statistics.{{ primary }}_interval_null_reason as interval_null_reason,
        statistics.{{ primary }}_is_significant as is_significant,
        statistics.{{ primary }}_is_underpowered as is_underpowered,
        case
            when not statistics.has_enough_data then 'insufficient_data'
            when statistics.{{ primary }}_is_significant and statistics.{{ primary }}_uplift > 0
                then 'significant_increase'
            when statistics.{{ primary }}_is_significant then 'significant_decrease'
            else 'not_significant'
        end as verdict,
        {{ alpha }} as alpha,
        {{ power }} as statistical_power,
        {{ var('measurement_response_window_days', 30) }} as response_window_days,
        {{ as_of_date_literal() }} as as_of_date
    from statistics
    left join treatments on statistics.treatment_code = treatments.treatment_code
)

select * from final
