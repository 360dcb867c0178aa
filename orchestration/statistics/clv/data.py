"""The CLV models' inputs, shaped from int_value__purchase_summary.

The summary (one row per buyer, time unit day) is built in SQL, where it is cheapest; here it
only gets pymc-marketing's column names, a deterministic order, and the two reductions the
fits use: identical (frequency, recency, T) rows collapsed into weighted rows, so the purchase
model's input is bounded by the number of distinct histories rather than customers, and the
repeat buyers Gamma-Gamma is fitted on.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

HISTORY_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T")


def prepare_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The SQL summary under pymc-marketing's column names (recency, T), sorted by customer_key.

    monetary_frequency is the number of repeat purchase days monetary_value is the mean over
    (fewer than frequency when staging lost lines of an order); without the column, frequency.
    """
    frame = summary.sort_values("customer_key", kind="stable").reset_index(drop=True)
    return pd.DataFrame(
        {
            "customer_key": frame["customer_key"],
            "frequency": frame["frequency"].astype("int64"),
            "recency": frame["recency_days"].astype(float),
            "T": frame["t_days"].astype(float),
            "monetary_value": frame["monetary_value"].astype(float),
            "monetary_frequency": frame.get("monetary_frequency", frame["frequency"]).astype("int64"),
        }
    )


def summary_as_of(summary: pd.DataFrame) -> date:
    """The as-of date the summary was computed at (one value per build)."""
    if summary.empty:
        raise ValueError("int_value__purchase_summary is empty: there is nothing to fit the CLV models on")
    return pd.Timestamp(summary["as_of_date"].iloc[0]).date()


def collapse_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """One weighted row per distinct (frequency, recency, T), sorted so the fit is deterministic."""
    keys = list(HISTORY_COLUMNS)
    grouped = summary.groupby(keys, sort=True).size().rename("weight").reset_index()
    grouped["customer_id"] = np.arange(len(grouped))
    return grouped[["customer_id", *keys, "weight"]]


def repeat_buyers(summary: pd.DataFrame) -> pd.DataFrame:
    """Gamma-Gamma's input: customers with a repeat purchase day and a positive mean repeat spend,
    as pymc-marketing's (customer_id, monetary_value, frequency)."""
    repeaters = summary[(summary["monetary_frequency"] > 0) & (summary["monetary_value"] > 0)]
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(repeaters)),
            "monetary_value": repeaters["monetary_value"].to_numpy(dtype=float),
            "frequency": repeaters["monetary_frequency"].to_numpy(dtype=float),
        }
    )
