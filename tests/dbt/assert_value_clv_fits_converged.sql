-- The CLV fits of this build (the latest for the as-of date per model) must
-- have converged (clv_model_fit.converged). A warning, not an error: the
-- predictions still exist, but should not be trusted until the cause is known.
{{ config(severity='warn') }}
with

fits as (
    select * from {{ ref('clv_model_fit') }}
),

latest as (
    select
        fit_id,
        model_name,
        converged,
        convergence_measure,
        row_number() over (partition by model_name order by fitted_at desc) as fit_rank
    from fits
    where as_of_date = {{ as_of_date_literal() }}
)

select
    fit_id,
    model_name,
    convergence_measure
from latest
where fit_rank = 1 and not converged
