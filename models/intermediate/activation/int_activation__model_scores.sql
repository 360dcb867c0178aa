-- The hook for model-based selection: per customer and treatment, the
-- incremental margin a model expects a contact to cause. Until the measurement
-- layer's uplift scores exist (and var activation_use_uplift_scores is on),
-- no model proposes anything, so this relation is empty but typed.
with

no_scores as (
    select
        cast(null as {{ dbt.type_string() }}) as customer_key,
        cast(null as {{ dbt.type_string() }}) as treatment_code,
        cast(null as {{ dbt.type_string() }}) as model_id,
        cast(null as {{ dbt.type_float() }}) as expected_incremental_margin
)

select
    customer_key,
    treatment_code,
    model_id,
    expected_incremental_margin
from no_scores
where 1 = 0
