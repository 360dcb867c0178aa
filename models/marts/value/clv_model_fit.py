"""dbt Python model: fit the CLV models and record each fit (one row per model and as-of date).

The purchase model (BG/NBD or Pareto/NBD, var clv_model) on int_value__purchase_summary's
(frequency, recency, T), collapsed into weighted rows, and Gamma-Gamma on the repeat buyers'
mean spend; MAP with flat priors (maximum likelihood) or MCMC. Each row carries the estimates,
standard errors, the verdict of the diagnostics (fit_status, fit_diagnostics) and the
parameter draws int_value__clv_predictions simulates intervals from. The statistics live in
orchestration/statistics/clv (fit.py); this file reads, calls and returns.
"""

from orchestration.statistics.clv.fit import fit_clv_models
from orchestration.statistics.clv.settings import FitSettings


def model(dbt, session):
    # Incremental: the fits of earlier as-of dates are kept, so runs can be compared; rebuilding
    # an as-of date replaces its fit of each model (delete+insert), so two builds of the same
    # data leave the same rows. Columns added later (fit_status, fit_diagnostics) are appended
    # to a table built before them, null in its older rows.
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key=["as_of_date", "model_name"],
        on_schema_change="append_new_columns",
    )
    # One plain call per setting: dbt finds meta_get calls by reading this file, not by running it.
    settings = FitSettings.from_config(
        {
            "clv_model": dbt.config.meta_get("clv_model", "bg_nbd"),
            "clv_fit_method": dbt.config.meta_get("clv_fit_method", "map"),
            "clv_interval_draws": dbt.config.meta_get("clv_interval_draws", 200),
            "clv_random_seed": dbt.config.meta_get("clv_random_seed", 0),
            "clv_mcmc_chains": dbt.config.meta_get("clv_mcmc_chains", 2),
            "clv_mcmc_draws": dbt.config.meta_get("clv_mcmc_draws", 500),
            "clv_mcmc_tune": dbt.config.meta_get("clv_mcmc_tune", 500),
            "clv_max_relative_se": dbt.config.meta_get("clv_max_relative_se", 1.0),
            "clv_bound_tolerance": dbt.config.meta_get("clv_bound_tolerance", 0.001),
            "clv_parameter_max": dbt.config.meta_get("clv_parameter_max", 1000000.0),
        }
    )
    return fit_clv_models(dbt.ref("int_value__purchase_summary").df(), settings)
