-- The staging invariant: no raw row is lost. Returns the tables where
-- raw rows differ from staged + quarantined + erased rows.
select
    raw_table,
    raw_rows,
    staged_rows,
    quarantined_rows,
    erased_rows
from {{ ref('audit__row_reconciliation') }}
where not is_balanced
