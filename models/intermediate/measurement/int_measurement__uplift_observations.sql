{{ config(schema='intermediate') }}
{#-
  The rows the uplift models learn from and score, one per observation, with
  the instant its features are taken at (reference_at):
  - training: every assignment of measurement.treatment_outcomes whose
    response window is complete, with its arm, conversion and window margin,
    at its assigned_at; the needs segment and lifecycle stage at assignment.
    A shared control (an outside experiment's control row without a treatment
    code) trains the model of every arm of its campaign: one training row per
    arm, keyed training:<assignment_key>:<arm> (macros/measurement/compared_arms.sql);
  - scoring: every customer of the 360 at the end of the as-of date, with the
    current needs segment and stage.
  int_measurement__uplift_features computes the same features for both.
-#}
with

treatment_outcomes as (
    select
        assignment_key,
        assignment_source,
        campaign_id,
        customer_key,
        treatment_code,
        is_treated,
        assigned_at,
        is_window_complete,
        converted,
        margin,
        needs_segment_id,
        lifecycle_stage
    from {{ ref('treatment_outcomes') }}
),

customers as (
    select customer_key
    from {{ ref('customer_360') }}
),

customer_needs as (
    select
        customer_key,
        needs_segment_id
    from {{ ref('customer_needs') }}
),

customer_lifecycle as (
    select
        customer_key,
        lifecycle_stage
    from {{ ref('customer_lifecycle') }}
),

compared_arms as (
    {{ measurement_compared_arms('treatment_outcomes') }}
),

training as (
    select
        case
            when treatment_outcomes.treatment_code is null
                then {{ dbt.concat([
                    "'training:'", 'treatment_outcomes.assignment_key', "':'", 'compared_arms.arm_code',
                ]) }}
            else {{ dbt.concat(["'training:'", 'treatment_outcomes.assignment_key']) }}
        end as observation_key,
        'training' as observation_role,
        treatment_outcomes.customer_key,
        compared_arms.arm_code as treatment_code,
        treatment_outcomes.assignment_source,
        treatment_outcomes.is_treated,
        treatment_outcomes.converted,
        treatment_outcomes.margin,
        treatment_outcomes.needs_segment_id,
        treatment_outcomes.lifecycle_stage,
        treatment_outcomes.assigned_at as reference_at
    from treatment_outcomes
    inner join compared_arms on treatment_outcomes.assignment_key = compared_arms.assignment_key
    where treatment_outcomes.is_window_complete
),

scoring as (
    select
        {{ dbt.concat(["'scoring:'", 'customers.customer_key']) }} as observation_key,
        'scoring' as observation_role,
        customers.customer_key,
        coalesce(customer_needs.needs_segment_id, 0) as needs_segment_id,
        coalesce(customer_lifecycle.lifecycle_stage, 'unknown') as lifecycle_stage,
        {{ as_of_upper_bound() }} as reference_at
    from customers
    left join customer_needs on customers.customer_key = customer_needs.customer_key
    left join customer_lifecycle on customers.customer_key = customer_lifecycle.customer_key
),

-- Scoring rows have no arm and no outcome (macros/sql/union_padded.sql).
final as (
    {{ union_padded(
        {
            'training': ['treatment_code', 'assignment_source', 'is_treated', 'converted', 'margin'],
            'scoring': [],
        },
        keys=[
            'observation_key', 'observation_role', 'customer_key', 'needs_segment_id', 'lifecycle_stage',
            'reference_at',
        ],
        padded={
            'treatment_code': 'cast(null as ' ~ dbt.type_string() ~ ')',
            'assignment_source': 'cast(null as ' ~ dbt.type_string() ~ ')',
            'is_treated': 'cast(null as boolean)',
            'converted': 'cast(null as boolean)',
            'margin': 'cast(null as ' ~ dbt.type_float() ~ ')',
        },
    ) }}
)

select * from final
