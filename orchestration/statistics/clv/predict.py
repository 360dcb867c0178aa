"""Per-customer CLV predictions from this build's fits: the rows of int_value__clv_predictions.

For every customer of int_value__purchase_summary (time unit day, horizon H, annual discount
rate d):
- p_alive, expected purchases over the next H days (pymc-marketing's conditional formulas at
  the point estimates), expected_order_value (Gamma-Gamma conditional mean spend);
- predicted_clv = expected_order_value x the discounted expected purchases: the horizon is cut
  into `discount_steps` equal steps and each step's expected purchases are discounted by
  (1 + d) ^ -(step midpoint / 365);
- predicted_clv_lower / _upper and probability_no_purchase: simulated (simulation.py);
- clv_fit_status: whether the fits behind these numbers can be trusted. A degenerate or failed
  fit (diagnostics.py) still yields finite predictions from its point estimate, flagged here
  rather than dropped: the value tiers and the journey keep working, and whoever reads them can
  see (and filter on) the flag; clv_model_fit.fit_diagnostics says why.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from orchestration.statistics.clv.data import HISTORY_COLUMNS, prepare_summary
from orchestration.statistics.clv.diagnostics import FIT_STATUSES
from orchestration.statistics.clv.posterior import (
    customer_frame,
    draw_values,
    purchase_model_with,
    spend_model_with,
)
from orchestration.statistics.clv.serial import one_at_a_time
from orchestration.statistics.clv.settings import SPEND_MODEL, SPEND_MODEL_PARAMETERS, PredictionSettings
from orchestration.statistics.clv.simulation import DAYS_PER_YEAR, interval_predictions

BG_NBD_A_GUARD = 1e-6


def discount_steps(horizon_days: float, steps: int, annual_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Step ends (days) and each step's discount factor, at the step midpoint."""
    ends = horizon_days * np.arange(1, steps + 1) / steps
    midpoints = ends - horizon_days / (2 * steps)
    return ends, (1.0 + annual_rate) ** (-midpoints / DAYS_PER_YEAR)


def point_predictions(
    model_name: str,
    estimates: dict[str, float],
    summary: pd.DataFrame,
    horizon_days: float,
    steps: int,
    annual_rate: float,
) -> pd.DataFrame:
    """`summary` with p_alive, expected purchases (plain and discounted) and the expected days
    between purchases, computed once per distinct (frequency, recency, T) and joined back."""
    keys = list(HISTORY_COLUMNS)
    distinct = summary[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    data = customer_frame(distinct)
    p_alive = draw_values(purchase_model_with(model_name, [estimates]).expected_probability_alive(data))[0]
    guarded = dict(estimates)
    if model_name == "bg_nbd" and abs(guarded["a"] - 1.0) < BG_NBD_A_GUARD:
        # BG/NBD's conditional expectation has a removable singularity at a = 1 (it divides by
        # a - 1): step just off it, which changes the result by far less than a cent.
        guarded["a"] = 1.0 + BG_NBD_A_GUARD
    purchase_model = purchase_model_with(model_name, [guarded])
    ends, factors = discount_steps(horizon_days, steps, annual_rate)
    previous = np.zeros(len(distinct))
    discounted = np.zeros(len(distinct))
    for end, factor in zip(ends, factors, strict=True):
        cumulative = draw_values(purchase_model.expected_purchases(data, future_t=float(end)))[0]
        discounted += (cumulative - previous) * factor
        previous = cumulative
    distinct["p_alive"] = np.clip(p_alive, 0.0, 1.0)
    distinct["expected_purchases"] = previous
    distinct["discounted_purchases"] = discounted
    r, alpha = estimates["r"], estimates["alpha"]
    shape = r + distinct["frequency"].to_numpy(dtype=float)
    # Mean gap while alive, E[1/lambda | history] = (alpha + T) / (r + x - 1): undefined (infinite)
    # when r + x <= 1, i.e. for one-time buyers when r < 1.
    distinct["expected_days_between_purchases"] = np.where(
        shape > 1.0, (alpha + distinct["T"].to_numpy(dtype=float)) / np.maximum(shape - 1.0, 1e-12), np.nan
    )
    return summary.merge(distinct, on=keys, how="left", validate="many_to_one")


def expected_order_value(spend: dict[str, float], frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Gamma-Gamma conditional mean spend per purchase, E[p / nu | x, z]; the population mean
    p * gamma / (q - 1) without a repeat purchase (pymc-marketing's expected_customer_spend)."""
    data = pd.DataFrame(
        {
            "customer_id": np.arange(len(frequency)),
            "frequency": frequency.astype(float),
            "monetary_value": np.where(frequency > 0, np.nan_to_num(monetary, nan=0.0), 0.0),
        }
    )
    return draw_values(spend_model_with([spend]).expected_customer_spend(data))[0]


def latest_fit(fits: pd.DataFrame, model_name: str, as_of_date: pd.Timestamp) -> pd.Series:
    """This build's fit of one model: the latest one recorded for the as-of date."""
    candidates = fits[(fits["model_name"] == model_name) & (pd.to_datetime(fits["as_of_date"]) == as_of_date)]
    if candidates.empty:
        raise ValueError(f"clv_model_fit holds no {model_name} fit as of {as_of_date.date()}: build it first")
    return candidates.sort_values("fitted_at").iloc[-1]


def combined_fit_status(*fits: pd.Series) -> str:
    """The worst fit_status of the fits a prediction uses (failed > degenerate > ok); a fit
    written before the diagnostics existed (no status) counts as ok, as in the journey rules."""
    statuses = [fit.get("fit_status") for fit in fits]
    known = [
        status if isinstance(status, str) and status in FIT_STATUSES else FIT_STATUSES[0]
        for status in statuses
    ]
    return max(known, key=FIT_STATUSES.index)


def estimates_of(fit: pd.Series, names: tuple[str, ...]) -> dict[str, float]:
    """A clv_model_fit row's estimates of the named parameters."""
    return {name: float(fit[name]) for name in names}


@one_at_a_time
def predict_clv(raw_summary: pd.DataFrame, fits: pd.DataFrame, settings: PredictionSettings) -> pd.DataFrame:
    """All predictions for the customers of int_value__purchase_summary from clv_model_fit."""
    summary = prepare_summary(raw_summary)
    as_of_date = pd.Timestamp(raw_summary["as_of_date"].iloc[0])
    purchase_fit = latest_fit(fits, settings.model_name, as_of_date)
    spend_fit = latest_fit(fits, SPEND_MODEL, as_of_date)
    estimates = estimates_of(purchase_fit, settings.purchase_parameters)
    spend = estimates_of(spend_fit, SPEND_MODEL_PARAMETERS)
    horizon, rate = settings.horizon_days, settings.annual_discount_rate

    scored = point_predictions(
        settings.model_name, estimates, summary, horizon, settings.discount_steps, rate
    )
    scored["expected_order_value"] = expected_order_value(
        spend, scored["monetary_frequency"].to_numpy(), scored["monetary_value"].to_numpy(dtype=float)
    )
    scored["predicted_clv"] = scored["expected_order_value"] * scored["discounted_purchases"]
    intervals = interval_predictions(
        settings.model_name,
        json.loads(purchase_fit["parameter_draws"]),
        json.loads(spend_fit["parameter_draws"]),
        summary,
        horizon,
        rate,
        settings.interval_level,
        settings.seed,
    )
    scored = scored.merge(intervals, on="customer_key", how="left", validate="one_to_one")
    return pd.DataFrame(
        {
            "customer_key": scored["customer_key"],
            "as_of_date": as_of_date.date(),
            "clv_model": settings.model_name,
            "purchase_fit_id": purchase_fit["fit_id"],
            "spend_fit_id": spend_fit["fit_id"],
            "clv_fit_status": combined_fit_status(purchase_fit, spend_fit),
            "frequency": scored["frequency"],
            "recency_days": scored["recency"],
            "t_days": scored["T"],
            "monetary_value": scored["monetary_value"],
            "monetary_frequency": scored["monetary_frequency"],
            "p_alive": scored["p_alive"],
            "expected_purchases": scored["expected_purchases"],
            "expected_order_value": scored["expected_order_value"],
            "expected_days_between_purchases": scored["expected_days_between_purchases"],
            "probability_no_purchase": scored["probability_no_purchase"],
            "predicted_clv": scored["predicted_clv"],
            "predicted_clv_lower": scored["predicted_clv_lower"],
            "predicted_clv_upper": scored["predicted_clv_upper"],
            "clv_horizon_days": horizon,
            "clv_annual_discount_rate": rate,
            "clv_interval_level": settings.interval_level,
        }
    )
