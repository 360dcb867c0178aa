{#-
  The hook for model-based selection: per customer and treatment, the
  incremental margin a model expects a contact to cause. The model is the
  measurement layer's uplift model (measurement.uplift_scores); only models
  that passed their held-out policy check (is_validated) are used unless var
  uplift_validated_only is false, and scores dated after the as-of date are
  ignored, so a past state rebuilds without tomorrow's scores.

  The scores are read as they stand, not through ref(): uplift_scores learns
  from treatment_outcomes, which reads the assignment history this layer
  writes, so a ref would close a cycle. Activation therefore uses the scores
  of the latest measurement build (in one `dbt build` activation runs first,
  so that is the previous build's): the learning loop closes across runs.
  While var activation_use_uplift_scores is off, or before the scores table
  exists, no model proposes anything and this relation is empty but typed.
-#}
{%- set scores = namespace(relation=none) -%}
{%- if execute and var('activation_use_uplift_scores') -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.name == 'uplift_scores' and node.package_name == project_name -%}
        {%- set scores.relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) -%}
    {%- endfor -%}
{%- endif -%}
{%- set has_scores = scores.relation is not none -%}
with

-- The shape of the scores, for when there are none.
no_scores as (
    select
        cast(null as {{ dbt.type_string() }}) as customer_key,
        cast(null as {{ dbt.type_string() }}) as treatment_code,
        cast(null as {{ dbt.type_string() }}) as model_id,
        cast(null as {{ dbt.type_float() }}) as expected_incremental_margin,
        cast(null as boolean) as is_validated,
        cast(null as date) as as_of_date
),

uplift_scores as (
    select
        customer_key,
        treatment_code,
        model_id,
        expected_incremental_margin,
        is_validated,
        as_of_date
    from {{ scores.relation if has_scores else 'no_scores' }}
    where {{ '1 = 1' if has_scores else '1 = 0' }}
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
