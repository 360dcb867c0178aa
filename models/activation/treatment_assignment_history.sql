{#- DuckDB and engines like it: a table rebuilt from its previous version, so an
    erased person's past assignments leave it too (docs/privacy.md). Spark
    without Delta cannot rewrite a table it reads: there it stays an incremental
    partition overwrite, and past runs keep erased persons' keys. -#}
{%- set rebuilt = target.type != 'spark' %}
{{- erasure_lineage() }}
{%- set previous = adapter.get_relation(this.database, this.schema, this.identifier)
    if execute and rebuilt else none %}
{{
    config(
        materialized=('table' if target.type != 'spark' else 'incremental'),
        unique_key='run_date',
        incremental_strategy=('delete+insert' if target.type != 'spark' else 'insert_overwrite'),
        partition_by=(['run_date'] if target.type == 'spark' else none),
        on_schema_change='append_new_columns'
    )
}}

-- Every run's assignments, treated and held out, appended: the record
-- measurement reads to compare treated customers with their controls. A rerun
-- for the same as-of date replaces that run's rows as a whole (delete+insert
-- by run date; partition overwrite on Spark), so a rule changed and rerun on
-- the same day leaves no stale assignment behind.
with

{%- if previous is not none %}

    earlier_runs as (
        select
            assignment_id,
            customer_key,
            treatment_code,
            channel,
            offer_code,
            selection_method,
            rule_id,
            expected_value,
            is_holdout,
            holdout_type,
            assignment_group,
            assigned_at,
            valid_until,
            run_date
        from {{ this }}
        where
            run_date not in (select distinct run_date from {{ ref('customer_treatments') }})
            and {{ erasure_keeps({'customer_key': 'customer_key'}) }}
    ),
{%- endif %}

customer_treatments as (
    select
        assignment_id,
        customer_key,
        treatment_code,
        channel,
        offer_code,
        selection_method,
        rule_id,
        expected_value,
        is_holdout,
        holdout_type,
        send_window_start,
        valid_until,
        run_date
    from {{ ref('customer_treatments') }}
),

this_run as (
    select
        assignment_id,
        customer_key,
        treatment_code,
        channel,
        offer_code,
        selection_method,
        rule_id,
        expected_value,
        is_holdout,
        holdout_type,
        case when is_holdout then 'control' else 'treatment' end as assignment_group,
        send_window_start as assigned_at,
        valid_until,
        run_date
    from customer_treatments
)

{% if previous is not none -%}
    select * from earlier_runs
    union all
{% endif -%}
select * from this_run
