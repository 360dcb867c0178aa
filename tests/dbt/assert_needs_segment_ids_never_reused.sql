-- A needs segment id names one segment for good: it is 'new' in one run only,
-- and once it has vanished no later run uses it again. Returns offending ids.
with

definitions as (
    select
        segment_id,
        as_of_date,
        segment_status
    from {{ ref('needs_segment_definitions') }}
),

new_runs as (
    select
        segment_id,
        count(*) as runs_count
    from definitions
    where segment_status = 'new'
    group by segment_id
),

vanished as (
    select
        segment_id,
        min(as_of_date) as vanished_as_of_date
    from definitions
    where segment_status = 'vanished'
    group by segment_id
),

reused_after_vanishing as (
    select distinct definitions.segment_id
    from definitions
    inner join vanished on definitions.segment_id = vanished.segment_id
    where definitions.as_of_date > vanished.vanished_as_of_date
)

select
    segment_id,
    'new in more than one run' as problem
from new_runs
where runs_count > 1
union all
select
    segment_id,
    'used again after it vanished' as problem
from reused_after_vanishing
