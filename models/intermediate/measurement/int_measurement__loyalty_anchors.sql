{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 10.75 MiB there. -#}
{{ config(materialized='view') }}
{#-
  Who loyalty_program_effect compares, and from when: one row per unit, a
  member at their (first) join date, or a non-member at the first day of a
  month in which members joined (the "anchor"), with the customer's first and
  last purchase. Members: with a purchase before joining and a post-period
  (var measurement_loyalty_post_days) over by the as-of date. Non-members:
  customers with a shop account (only they can join), a purchase before the
  anchor and no membership before the post-period ends (later joiners are
  "not yet treated" controls); at most var
  measurement_loyalty_control_sample_size of them, a deterministic hash
  sample. int_measurement__loyalty_units measures each unit.
-#}
{%- set post_days = var('measurement_loyalty_post_days', 90) -%}
{%- set sample_size = var('measurement_loyalty_control_sample_size', 50000) -%}
with

memberships as (
    select
        customer_key,
        joined_at
    from {{ ref('int_customer__loyalty_memberships') }}
    where joined_at < {{ as_of_upper_bound() }}
),

orders as (
    select
        customer_key,
        ordered_at
    from {{ ref('int_customer__orders') }}
    where
        not is_cancelled
        and ordered_at < {{ as_of_upper_bound() }}
),

account_customers as (
    select distinct customer_key
    from {{ ref('int_identity__account_keys') }}
),

first_joins as (
    select
        customer_key,
        min(joined_at) as joined_at
    from memberships
    group by customer_key
),

purchase_span as (
    select
        customer_key,
        min(ordered_at) as first_purchase_at,
        max(ordered_at) as last_purchase_at
    from orders
    group by customer_key
),

members as (
    select
        first_joins.customer_key,
        'member' as unit_group,
        first_joins.joined_at as anchor_at,
        {{ dbt.date_trunc('month', 'first_joins.joined_at') }} as cohort_month
    from first_joins
    inner join purchase_span
        on
            first_joins.customer_key = purchase_span.customer_key
            and first_joins.joined_at > purchase_span.first_purchase_at
    where {{ dbt.dateadd('day', post_days, 'first_joins.joined_at') }} <= {{ as_of_upper_bound() }}
),

cohorts as (
    select distinct
        cohort_month,
        cast(cohort_month as {{ dbt.type_timestamp() }}) as anchor_at
    from members
),

control_sample as (
    {{ hash_sample('account_customers', sample_size) }}
),

controls as (
    select
        control_sample.customer_key,
        'control' as unit_group,
        cohorts.anchor_at,
        cohorts.cohort_month
    from control_sample
    inner join purchase_span on control_sample.customer_key = purchase_span.customer_key
    cross join cohorts
    left join first_joins on control_sample.customer_key = first_joins.customer_key
    where
        purchase_span.first_purchase_at < cohorts.anchor_at
        and (
            first_joins.joined_at is null
            or first_joins.joined_at >= {{ dbt.dateadd('day', post_days, 'cohorts.anchor_at') }}
        )
),

units as (
    {%- for relation in ['members', 'controls'] %}
        select
            customer_key,
            unit_group,
            anchor_at,
            cohort_month
        from {{ relation }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ dbt.concat(['units.unit_group', "'|'", 'units.customer_key', "'|'", as_text('units.anchor_at')]) }}
            as unit_id,
        units.customer_key,
        units.unit_group,
        units.anchor_at,
        cast(units.cohort_month as date) as cohort_month,
        purchase_span.first_purchase_at,
        purchase_span.last_purchase_at
    from units
    inner join purchase_span on units.customer_key = purchase_span.customer_key
)

select * from final
