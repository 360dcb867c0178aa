-- The CLV fits of this build (the latest for the as-of date per model) should
-- be sound: returns those whose fit_status is not 'ok' (degenerate: a
-- parameter at a bound or standard errors that dwarf the estimates; failed:
-- the optimiser did not reach the optimum), with fit_diagnostics naming the
-- parameters. A warning, not an error: real data can make a fit degenerate;
-- the predictions still exist but should not be trusted, the build summary
-- says so and the lifecycle stages stop using P(alive). Whether converged is
-- honest (true exactly for 'ok') is an error-level test on clv_model_fit.
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
        fit_status,
        fit_diagnostics,
        convergence_measure,
        row_number() over (partition by model_name order by fitted_at desc) as fit_rank
    from fits
    where as_of_date = {{ as_of_date_literal() }}
)

select
    fit_id,
    model_name,
    fit_status,
    fit_diagnostics,
    convergence_measure
from latest
where fit_rank = 1 and (not converged or coalesce(fit_status, 'ok') != 'ok')
