{#-
  The uplift scores the previous build left in measurement.uplift_scores, for
  activation (int_activation__model_scores). Read through the previous_build
  source rather than ref(): uplift_scores learns from the outcomes of the
  assignments activation writes, so a ref would close a cycle. In one build
  activation reads the scores before measurement rebuilds them, so the
  learning loop closes across builds, and the lineage shows where. Before the
  first measurement build there is no scores table: the relation is empty but
  typed. Ephemeral, so that whether the table exists is asked when activation
  compiles: a view made before the first measurement build would stay empty
  for an activation rebuilt on its own afterwards.
-#}
{{ config(materialized='ephemeral') }}
{%- set scores = source('previous_build', 'uplift_scores') -%}
{%- set found = none -%}
{%- if execute -%}
    {%- set found = adapter.get_relation(
        database=scores.database, schema=scores.schema, identifier=scores.identifier
    ) -%}
{%- endif %}

with

scores as (
    {%- if found is not none %}
        select
            customer_key,
            treatment_code,
            model_id,
            cast(expected_incremental_margin as {{ dbt.type_float() }}) as expected_incremental_margin,
            is_validated,
            as_of_date
        from {{ found }}
    {%- else %}
        -- No scores table yet: the shape of the scores, empty.
        select
            cast(null as {{ dbt.type_string() }}) as customer_key,
            cast(null as {{ dbt.type_string() }}) as treatment_code,
            cast(null as {{ dbt.type_string() }}) as model_id,
            cast(null as {{ dbt.type_float() }}) as expected_incremental_margin,
            cast(null as boolean) as is_validated,
            cast(null as date) as as_of_date
        where 1 = 0
    {%- endif %}
)

select * from scores
