{{ config(meta={'dagster': {'ref': {'name': 'customer_lifecycle_history'}}}) }}
-- Each customer's spells tile time from their first day to the as-of date:
-- every spell ends where the next begins (no gap, no overlap), exactly one
-- spell is open and it is the last. Returns the offending spells.
with

spells as (
    select
        customer_key,
        spell_number,
        valid_from,
        valid_to,
        lead(valid_from) over (partition by customer_key order by spell_number) as next_valid_from,
        count(*) over (partition by customer_key) as spells_count,
        sum(case when valid_to is null then 1 else 0 end) over (partition by customer_key) as open_spells_count
    from {{ ref('customer_lifecycle_history') }}
)

select
    customer_key,
    spell_number,
    valid_from,
    valid_to,
    next_valid_from,
    open_spells_count
from spells
where
    open_spells_count != 1
    or (spell_number < spells_count and (valid_to is null or valid_to != next_valid_from))
    or (spell_number = spells_count and valid_to is not null)
    or valid_from > {{ as_of_date_literal() }}
