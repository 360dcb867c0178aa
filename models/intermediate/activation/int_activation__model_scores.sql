{#-
  The hook for model-based selection: per customer and treatment, the
  incremental margin a model expects a contact to cause. The model is the
  measurement layer's uplift model, as the previous build left its scores
  (stg_previous_build__uplift_scores, from the source previous_build: a ref to
  uplift_scores would close a cycle, since it learns from treatment_outcomes,
  which reads the assignment history this layer writes). Only models that
  passed their held-out policy check (is_validated) are used unless var
  uplift_validated_only is false, and scores dated after the as-of date are
  ignored, so a past state rebuilds without tomorrow's scores. While var
  activation_use_uplift_scores is off, no model proposes anything and this
  relation is empty.
-#}
with

uplift_scores as (
    select
        customer_key,
        treatment_code,
        model_id,
        expected_incremental_margin,
        is_validated,
        as_of_date
    from {{ ref('stg_previous_build__uplift_scores') }}
    where {{ '1 = 1' if var('activation_use_uplift_scores') else '1 = 0' }}
),

model_scores as (
    select
        customer_key,
        treatment_code,
        model_id,
        cast(expected_incremental_margin as {{ dbt.type_float() }}) as expected_incremental_margin
    from uplift_scores
    where
        as_of_date <= {{ as_of_date_literal() }}
        {%- if var('uplift_validated_only', true) %}
            and is_validated
        {%- endif %}
)

select
    customer_key,
    treatment_code,
    model_id,
    expected_incremental_margin
from model_scores
