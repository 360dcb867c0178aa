"""dbt Python model: per-customer CLV predictions from this build's fits in clv_model_fit.

For every customer of int_value__purchase_summary: P(alive), expected purchases and order
value, predicted_clv over var clv_horizon_days discounted at var clv_annual_discount_rate, a
simulated var clv_interval_level interval of the realised spend, and clv_fit_status, which
flags predictions from a fit that is not ok. The statistics live in
orchestration/statistics/clv (predict.py, simulation.py); this file reads, calls and returns.
"""

from orchestration.statistics.clv.predict import predict_clv
from orchestration.statistics.clv.settings import PredictionSettings


def model(dbt, session):
    dbt.config(materialized="table")
    # One plain call per setting: dbt finds meta_get calls by reading this file, not by running it.
    settings = PredictionSettings.from_config(
        {
            "clv_model": dbt.config.meta_get("clv_model", "bg_nbd"),
            "clv_horizon_days": dbt.config.meta_get("clv_horizon_days", 365),
            "clv_annual_discount_rate": dbt.config.meta_get("clv_annual_discount_rate", 0.1),
            "clv_discount_steps": dbt.config.meta_get("clv_discount_steps", 12),
            "clv_interval_level": dbt.config.meta_get("clv_interval_level", 0.9),
            "clv_random_seed": dbt.config.meta_get("clv_random_seed", 0),
        }
    )
    summary = dbt.ref("int_value__purchase_summary").df()
    return predict_clv(summary, dbt.ref("clv_model_fit").df(), settings)
