{{ config(meta={'dagster': {'ref': {'name': 'customer_lifecycle'}}}) }}
-- Exactly one current stage per known customer: customer_lifecycle and the
-- open spells of customer_lifecycle_history hold the customer_360 keys, each
-- once, and agree on the stage. Returns the keys where they do not.
with

customers as (
    select customer_key
    from {{ ref('customer_360') }}
),

current_stages as (
    select
        customer_key,
        count(*) as rows_count,
        max(lifecycle_stage) as lifecycle_stage
    from {{ ref('customer_lifecycle') }}
    group by customer_key
),

open_spells as (
    select
        customer_key,
        count(*) as rows_count,
        max(lifecycle_stage) as lifecycle_stage
    from {{ ref('customer_lifecycle_history') }}
    where is_current
    group by customer_key
)

select
    coalesce(customers.customer_key, current_stages.customer_key, open_spells.customer_key) as customer_key,
    customers.customer_key is not null as is_in_customer_360,
    current_stages.rows_count as current_rows,
    open_spells.rows_count as open_spells,
    current_stages.lifecycle_stage as current_stage,
    open_spells.lifecycle_stage as open_spell_stage
from customers
full outer join current_stages on customers.customer_key = current_stages.customer_key
full outer join open_spells on coalesce(customers.customer_key, current_stages.customer_key) = open_spells.customer_key
where
    customers.customer_key is null
    or current_stages.rows_count is null
    or current_stages.rows_count != 1
    or open_spells.rows_count is null
    or open_spells.rows_count != 1
    or current_stages.lifecycle_stage != open_spells.lifecycle_stage
