{#-
  The sufficient statistics of every comparison treatment_effects reports:
  per campaign, treatment and cell (overall, and per needs segment, value tier
  and lifecycle stage at assignment), the count, sum and sum of squares of
  each outcome in each arm. Only assignments with a complete response window
  and a customer count. Means and variances follow from these portable
  aggregates, so the statistics model never rereads assignments (and its
  unit tests can state the sums of a 2x2 table directly).
  treatment_code is the arm compared: a shared control (an external control
  row without a treatment code) enters the comparison of every arm of its
  campaign once (macros/measurement/compared_arms.sql), its outcomes computed
  once in treatment_outcomes; n_control_shared counts those controls.
  The assignments of one customer are a cluster (daily runs assign the same
  customers again and again, and their outcomes are correlated): per arm,
  the number of customers and, per outcome, the sum over customers of the
  squared total deviation of their assignments from the arm's mean
  (sum_g (S_g - n_g * mean)^2, computed from the residuals, not expanded,
  for precision). int_measurement__effect_statistics turns them into the
  cluster-robust variance and the design effect.
-#}
{%- set dimensions = measurement_effect_dimensions() -%}
{%- set outcomes = measurement_effect_outcomes() -%}
with

-- Every assignment, so a shared control finds all the arms of its campaign.
assignments as (
    select
        assignment_key,
        campaign_id,
        treatment_code,
        is_treated
    from {{ ref('treatment_outcomes') }}
),

compared_arms as (
    {{ measurement_compared_arms('assignments') }}
),

outcomes as (
    select
        assignment_key,
        campaign_id,
        customer_key,
        is_treated,
        not is_treated and treatment_code is null as is_shared_control,
        needs_segment_id,
        persona_name,
        value_tier,
        {%- for outcome in outcomes %}
            cast({{ outcome.expression }} as {{ measurement_type_double() }}) as {{ outcome.name }},
        {%- endfor %}
        value_tier_rank,
        lifecycle_stage
    from {{ ref('treatment_outcomes') }}
    where
        is_window_complete
        and customer_key is not null
),

stages as (
    select
        lifecycle_stage,
        stage_order
    from {{ ref('lifecycle_stages') }}
),

labelled as (
    select
        outcomes.campaign_id,
        compared_arms.arm_code as treatment_code,
        outcomes.customer_key,
        outcomes.is_treated,
        outcomes.is_shared_control,
        outcomes.needs_segment_id,
        outcomes.persona_name,
        outcomes.value_tier,
        outcomes.value_tier_rank,
        outcomes.lifecycle_stage,
        {%- for outcome in outcomes %}
            outcomes.{{ outcome.name }},
        {%- endfor %}
        coalesce(stages.stage_order, 99) as stage_order
    from outcomes
    inner join compared_arms on outcomes.assignment_key = compared_arms.assignment_key
    left join stages on outcomes.lifecycle_stage = stages.lifecycle_stage
),

-- One row per assignment and breakdown it belongs to.
exploded as (
    {%- for dimension in dimensions %}
        select
            campaign_id,
            treatment_code,
            customer_key,
            is_treated,
            is_shared_control,
            '{{ dimension.name }}' as dimension,
            {{ as_text(dimension.value) }} as dimension_value,
            {{ as_text(dimension.label) }} as dimension_label,
            {%- for outcome in outcomes %}
                {{ outcome.name }},
            {%- endfor %}
            {{ loop.index }} * 100 + {{ dimension.order }} as dimension_order
        from labelled
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

-- One row per cell, arm and customer: the cluster of that customer's assignments.
clusters as (
    select
        campaign_id,
        treatment_code,
        dimension,
        dimension_value,
        dimension_label,
        dimension_order,
        is_treated,
        customer_key,
        count(*) as n_assignments,
        {%- for outcome in outcomes %}
            -- Exact sums (macros/sql/exact_aggregates.sql): the same in any row order.
            {{ exact_sum(outcome.name) }} as {{ outcome.name }}_sum,
            {{ exact_sum(outcome.name ~ ' * ' ~ outcome.name) }} as {{ outcome.name }}_sumsq,
            {%- if outcome.nullable %}
                count(case when {{ outcome.name }} is null then 1 end) as {{ outcome.name }}_unknown,
            {%- endif %}
        {%- endfor %}
        count(case when is_shared_control then 1 end) as n_shared
    from exploded
    group by
        campaign_id,
        treatment_code,
        dimension,
        dimension_value,
        dimension_label,
        dimension_order,
        is_treated,
        customer_key
),

-- Each arm's mean, for its customers' total deviations from it.
arm_means as (
    select
        campaign_id,
        treatment_code,
        dimension,
        dimension_value,
        is_treated,
        {%- for outcome in outcomes %}
            {{ exact_sum(outcome.name ~ '_sum') }} / sum(n_assignments) as {{ outcome.name }}_arm_mean,
        {%- endfor %}
        count(*) as n_customers
    from clusters
    group by
        campaign_id,
        treatment_code,
        dimension,
        dimension_value,
        is_treated
),

deviations as (
    select
        clusters.campaign_id,
        clusters.treatment_code,
        clusters.dimension,
        clusters.dimension_value,
        clusters.dimension_label,
        clusters.dimension_order,
        clusters.is_treated,
        {%- for outcome in outcomes %}
            clusters.{{ outcome.name }}_sum,
            clusters.{{ outcome.name }}_sumsq,
            {%- if outcome.nullable %}
                clusters.{{ outcome.name }}_unknown,
            {%- endif %}
            clusters.{{ outcome.name }}_sum - clusters.n_assignments * arm_means.{{ outcome.name }}_arm_mean
                as {{ outcome.name }}_deviation,
        {%- endfor %}
        clusters.n_assignments,
        clusters.n_shared
    from clusters
    inner join arm_means
        on
            clusters.campaign_id = arm_means.campaign_id
            and clusters.treatment_code = arm_means.treatment_code
            and clusters.dimension = arm_means.dimension
            and clusters.dimension_value = arm_means.dimension_value
            and clusters.is_treated = arm_means.is_treated
),

final as (
    select
        {{ dbt.concat(['campaign_id', "'|'", 'treatment_code', "'|'", 'dimension', "'|'", 'dimension_value']) }}
            as effect_id,
        campaign_id,
        treatment_code,
        dimension,
        dimension_value,
        dimension_label,
        cast(coalesce(sum(case when is_treated then n_assignments end), 0) as {{ dbt.type_bigint() }}) as n_treated,
        cast(coalesce(sum(case when not is_treated then n_assignments end), 0) as {{ dbt.type_bigint() }}) as n_control,
        cast(coalesce(sum(n_shared), 0) as {{ dbt.type_bigint() }}) as n_control_shared,
        count(case when is_treated then 1 end) as n_customers_treated,
        count(case when not is_treated then 1 end) as n_customers_control,
        {%- for outcome in outcomes %}
            {%- set deviation = outcome.name ~ '_deviation' %}
            coalesce({{ exact_sum('case when is_treated then ' ~ outcome.name ~ '_sum end') }}, 0)
                as {{ outcome.name }}_sum_treated,
            coalesce({{ exact_sum('case when not is_treated then ' ~ outcome.name ~ '_sum end') }}, 0)
                as {{ outcome.name }}_sum_control,
            coalesce({{ exact_sum('case when is_treated then ' ~ outcome.name ~ '_sumsq end') }}, 0)
                as {{ outcome.name }}_sumsq_treated,
            coalesce({{ exact_sum('case when not is_treated then ' ~ outcome.name ~ '_sumsq end') }}, 0)
                as {{ outcome.name }}_sumsq_control,
            coalesce({{ exact_sum('case when is_treated then ' ~ deviation ~ ' * ' ~ deviation ~ ' end') }}, 0)
                as {{ outcome.name }}_cluster_ss_treated,
            coalesce({{ exact_sum('case when not is_treated then ' ~ deviation ~ ' * ' ~ deviation ~ ' end') }}, 0)
                as {{ outcome.name }}_cluster_ss_control,
            {%- if outcome.nullable %}
                coalesce(sum({{ outcome.name }}_unknown), 0) as {{ outcome.name }}_unknown,
            {%- endif %}
        {%- endfor %}
        dimension_order
    from deviations
    group by
        campaign_id,
        treatment_code,
        dimension,
        dimension_value,
        dimension_label,
        dimension_order
)

select * from final
