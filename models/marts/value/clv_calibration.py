"""dbt Python model: the calibration / holdout check of the CLV purchase model.

Per calibration-period frequency bucket (int_value__clv_calibration_summary: each buyer's
history split at as-of - var clv_calibration_holdout_days), the mean purchase days the model
predicts for the holdout and the mean it saw. The model is the one clv_model_fit fits (var
clv_model, var clv_fit_method), refitted on the calibration period only. The statistics live
in orchestration/statistics/clv (calibration.py); this file reads, calls and returns.
"""

from orchestration.statistics.clv.calibration import calibration_table
from orchestration.statistics.clv.settings import FitSettings


def model(dbt, session):
    dbt.config(materialized="table")
    # One plain call per setting: dbt finds meta_get calls by reading this file, not by running it.
    settings = FitSettings.from_config(
        {
            "clv_model": dbt.config.meta_get("clv_model", "bg_nbd"),
            "clv_fit_method": dbt.config.meta_get("clv_fit_method", "map"),
            "clv_random_seed": dbt.config.meta_get("clv_random_seed", 0),
            "clv_mcmc_chains": dbt.config.meta_get("clv_mcmc_chains", 2),
            "clv_mcmc_draws": dbt.config.meta_get("clv_mcmc_draws", 500),
            "clv_mcmc_tune": dbt.config.meta_get("clv_mcmc_tune", 500),
        }
    )
    return calibration_table(dbt.ref("int_value__clv_calibration_summary").df(), settings)
