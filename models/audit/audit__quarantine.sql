{#-
  Every raw row staging refused, from every raw table, with the reason. A view
  (docs/scale.md, "Lean storage"): the rows of tables decided on every run come
  from audit__quarantine_stored, those of tables that store their refused rows
  with their raw text (base_web__events_quarantined) are read from there, so
  that text is stored once; their JSON is built when this view is read.
-#}
{{ config(materialized='view') }}
{%- set stored_elsewhere = raw_tables() | selectattr('quarantine_model', 'defined') | list %}
with

stored as (
    select
        quarantine_row_id,
        source_name,
        table_name,
        raw_key,
        quarantine_reason,
        quarantine_detail,
        raw_values,
        as_of_date
    from {{ ref('audit__quarantine_stored') }}
),

elsewhere as (
    {{ quarantine_rows(stored_elsewhere) }}
),

final as (
    select * from stored
    union all
    select
        quarantine_row_id,
        source_name,
        table_name,
        raw_key,
        quarantine_reason,
        quarantine_detail,
        raw_values,
        as_of_date
    from elsewhere
)

select * from final
