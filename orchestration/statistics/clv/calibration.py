"""The calibration / holdout check of the purchase model: the rows of marts.clv_calibration.

The classic test of a BG/NBD fit (Fader, Hardie & Lee 2005, figure 4): fit the same model, the
same way, on each customer's history up to a calibration end date, predict the purchase days of
the holdout period that follows, and compare the mean prediction with the mean actual count per
calibration-period frequency. A well-specified model tracks the actual means across the
buckets; a model that ignores history (one rate for all) is flat, one that overfits bends away.

The split and the actual holdout counts are computed in SQL (int_value__clv_calibration_summary);
this module only fits (fit.py, as clv_model_fit does) and predicts (predict.py's conditional
expectation at the point estimates, undiscounted, over the holdout length).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from orchestration.statistics.clv.fit import fit_purchase_model
from orchestration.statistics.clv.predict import point_predictions
from orchestration.statistics.clv.serial import one_at_a_time
from orchestration.statistics.clv.settings import FitSettings

COLUMNS: tuple[str, ...] = (
    "calibration_frequency",
    "customers",
    "predicted_purchases_mean",
    "actual_purchases_mean",
    "holdout_days",
    "as_of_date",
)
# Only the point estimate predicts here: keep the Laplace draws the fit makes anyway few.
CALIBRATION_DRAWS = 2


def empty_table() -> pd.DataFrame:
    """No customer has a calibration-period purchase (the holdout covers the whole history)."""
    return pd.DataFrame(
        {
            "calibration_frequency": pd.Series(dtype="int64"),
            "customers": pd.Series(dtype="int64"),
            "predicted_purchases_mean": pd.Series(dtype="float64"),
            "actual_purchases_mean": pd.Series(dtype="float64"),
            "holdout_days": pd.Series(dtype="int64"),
            "as_of_date": pd.Series(dtype="datetime64[s]"),
        }
    )


@one_at_a_time
def calibration_table(summary: pd.DataFrame, settings: FitSettings) -> pd.DataFrame:
    """Per calibration_frequency bucket: customers, mean predicted and mean actual holdout purchase days.

    `summary` is int_value__clv_calibration_summary (one row per customer, one holdout length and
    as-of date for all). The fit's verdict is not repeated here: clv_model_fit judges the same
    model on the full history, and a calibration fit on less data is judged by this table.
    """
    if summary.empty:
        return empty_table()
    frame = summary.sort_values("customer_key", kind="stable").reset_index(drop=True)
    history = pd.DataFrame(
        {
            "customer_key": frame["customer_key"],
            "frequency": frame["frequency"].astype("int64"),
            "recency": frame["recency_days"].astype(float),
            "T": frame["t_days"].astype(float),
        }
    )
    fitted = fit_purchase_model(history, replace(settings, draws_count=CALIBRATION_DRAWS))
    holdout_days = int(frame["holdout_days"].iloc[0])
    scored = point_predictions(settings.model_name, fitted.estimates, history, float(holdout_days), 1, 0.0)
    scored["calibration_frequency"] = frame["calibration_frequency"].astype("int64").to_numpy()
    scored["holdout_purchase_days"] = frame["holdout_purchase_days"].astype(float).to_numpy()
    table = (
        scored.groupby("calibration_frequency", sort=True)
        .agg(
            customers=("customer_key", "size"),
            predicted_purchases_mean=("expected_purchases", "mean"),
            actual_purchases_mean=("holdout_purchase_days", "mean"),
        )
        .reset_index()
    )
    table["holdout_days"] = holdout_days
    table["as_of_date"] = pd.Timestamp(frame["as_of_date"].iloc[0]).date()
    return table[list(COLUMNS)]
