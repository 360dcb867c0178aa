{#-
  Every lifecycle stage each known customer has been in, one row per spell:
  valid_from (inclusive) to valid_to (exclusive; null for the spell still open
  on the as-of date). Built from the stage rules evaluated on every checkpoint
  day (int_journey__stage_checkpoints), which depend only on what was known on
  that day: rebuilt as of an earlier date, the history is this one cut at that
  date. A customer's spells follow each other without gaps or overlaps, from
  the day they became known.
-#}
with

checkpoints as (
    select
        customer_key,
        checkpoint_date,
        lifecycle_stage,
        last_purchase_date,
        purchase_days_count
    from {{ ref('int_journey__stage_checkpoints') }}
),

stages as (
    select
        lifecycle_stage,
        stage_order,
        journey_phase
    from {{ ref('lifecycle_stages') }}
),

with_previous as (
    select
        customer_key,
        checkpoint_date,
        lifecycle_stage,
        last_purchase_date,
        purchase_days_count,
        lag(lifecycle_stage) over (partition by customer_key order by checkpoint_date) as previous_stage
    from checkpoints
),

-- A spell starts on each checkpoint where the stage differs from the day before.
spell_starts as (
    select
        customer_key,
        checkpoint_date as valid_from,
        lifecycle_stage,
        previous_stage,
        last_purchase_date,
        purchase_days_count
    from with_previous
    where previous_stage is null or previous_stage != lifecycle_stage
),

spells as (
    select
        customer_key,
        valid_from,
        lead(valid_from) over (partition by customer_key order by valid_from) as valid_to,
        -- The open spell runs up to and including the as-of date.
        coalesce(
            lead(valid_from) over (partition by customer_key order by valid_from),
            {{ journey_add_days(as_of_date_literal(), 1) }}
        ) as ends_before,
        row_number() over (partition by customer_key order by valid_from) as spell_number,
        lifecycle_stage,
        previous_stage,
        last_purchase_date,
        purchase_days_count
    from spell_starts
),

final as (
    select
        {{ dbt.concat(['spells.customer_key', "'-'", as_text('spells.spell_number')]) }} as spell_id,
        spells.customer_key,
        spells.spell_number,
        spells.lifecycle_stage,
        stages.stage_order,
        stages.journey_phase,
        spells.previous_stage,
        spells.valid_from,
        spells.valid_to,
        spells.valid_to is null as is_current,
        {{ dbt.datediff('spells.valid_from', 'spells.ends_before', 'day') }}
            as days_in_stage,
        spells.last_purchase_date as last_purchase_date_at_start,
        spells.purchase_days_count as purchase_days_count_at_start
    from spells
    left join stages on spells.lifecycle_stage = stages.lifecycle_stage
)

select * from final
