"""The CLV prediction's modules one by one (orchestration/statistics/clv: posterior, predict,
simulation): stored parameters drive pymc-marketing's formulas (checked against the papers'
closed forms), the right fit is picked and its status passed on, the predictions have the
columns their YAML documents, and the simulation is deterministic whatever its chunking.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from orchestration.statistics.clv import posterior, predict, simulation
from orchestration.statistics.clv.data import prepare_summary
from orchestration.statistics.clv.diagnostics import FIT_DEGENERATE, FIT_FAILED, FIT_OK
from orchestration.statistics.clv.settings import PredictionSettings

PROJECT_DIR = Path(__file__).resolve().parents[2]
BG = {"r": 0.9, "alpha": 70.0, "a": 1.2, "b": 4.0}
SPEND = {"p": 6.0, "q": 4.0, "gamma": 30.0}
HISTORIES = pd.DataFrame(
    {
        "frequency": [0, 3, 8, 5],
        "recency": [0.0, 200.0, 300.0, 100.0],
        "T": [30.0, 250.0, 320.0, 600.0],
        "monetary_value": [np.nan, 55.0, 80.0, 40.0],
    }
)
AS_OF = pd.Timestamp("2026-09-29")


def _raw_summary() -> pd.DataFrame:
    """int_value__purchase_summary's shape for HISTORIES."""
    return pd.DataFrame(
        {
            "customer_key": [f"K{i}" for i in range(len(HISTORIES))],
            "as_of_date": AS_OF,
            "frequency": HISTORIES["frequency"],
            "recency_days": HISTORIES["recency"],
            "t_days": HISTORIES["T"],
            "monetary_value": HISTORIES["monetary_value"],
            "monetary_frequency": HISTORIES["frequency"],
        }
    )


def _prepared() -> pd.DataFrame:
    """The prepared summary predict_clv works on."""
    return prepare_summary(_raw_summary())


def _fit_row(
    fit_id: str, model_name: str, estimates: dict, fitted_at: str, status: str | None = FIT_OK
) -> dict:
    return {
        "fit_id": fit_id,
        "model_name": model_name,
        "as_of_date": AS_OF,
        "fitted_at": pd.Timestamp(fitted_at),
        "fit_status": status,
        **estimates,
        "parameter_draws": json.dumps([estimates] * 40),
    }


def _fits(spend_status: str | None = FIT_OK) -> pd.DataFrame:
    return pd.DataFrame(
        [
            _fit_row("old", "bg_nbd", {**BG, "r": 5.0}, "2026-09-29 01:00"),
            _fit_row("bg", "bg_nbd", BG, "2026-09-30 01:00"),
            _fit_row("gg", "gamma_gamma", SPEND, "2026-09-30 01:00", spend_status),
        ]
    )


# posterior --------------------------------------------------------------------------------


def test_purchase_model_with_stored_parameters_gives_the_papers_p_alive() -> None:
    """BG/NBD P(alive) (Fader, Hardie & Lee 2005, eq. 13) at the stored estimates, per draw."""
    model = posterior.purchase_model_with("bg_nbd", [BG, {**BG, "a": 2.0}])
    values = posterior.draw_values(model.expected_probability_alive(posterior.customer_frame(HISTORIES)))
    assert values.shape == (2, len(HISTORIES))
    x, t_x, T = (HISTORIES[c].to_numpy() for c in ("frequency", "recency", "T"))
    for row, draw in enumerate([BG, {**BG, "a": 2.0}]):
        r, alpha, a, b = (draw[k] for k in ("r", "alpha", "a", "b"))
        ratio = ((alpha + T) / (alpha + t_x)) ** (r + x)
        by_hand = np.where(x > 0, 1 / (1 + a / np.maximum(b + x - 1, 1e-12) * ratio), 1.0)
        assert values[row] == pytest.approx(by_hand, rel=1e-9)


def test_spend_model_with_stored_parameters_gives_the_conditional_mean_spend() -> None:
    frequency = HISTORIES["frequency"].to_numpy()
    monetary = HISTORIES["monetary_value"].to_numpy()
    values = predict.expected_order_value(SPEND, frequency, monetary)
    p, q, gamma = SPEND["p"], SPEND["q"], SPEND["gamma"]
    weight = p * frequency / (p * frequency + q - 1)
    by_hand = (1 - weight) * p * gamma / (q - 1) + weight * np.nan_to_num(monetary)
    assert values == pytest.approx(by_hand, rel=1e-9)
    assert values[0] == pytest.approx(p * gamma / (q - 1))  # no repeat purchase: the population mean


def test_customer_frame_and_draw_values() -> None:
    frame = posterior.customer_frame(HISTORIES)
    assert list(frame.columns) == ["customer_id", "frequency", "recency", "T"]
    assert frame["customer_id"].tolist() == [0, 1, 2, 3]
    assert posterior.draw_values(np.arange(6.0).reshape(1, 2, 3)).shape == (2, 3)
    assert posterior.draw_values(np.arange(3.0)).shape == (1, 3)


# predict ----------------------------------------------------------------------------------


def test_discount_steps_discount_each_step_at_its_midpoint() -> None:
    ends, factors = predict.discount_steps(365.0, 4, 0.1)
    assert ends.tolist() == pytest.approx([91.25, 182.5, 273.75, 365.0])
    assert factors == pytest.approx(1.1 ** -(np.array([45.625, 136.875, 228.125, 319.375]) / 365.0))
    assert predict.discount_steps(365.0, 1, 0.0)[1].tolist() == [1.0]


def test_latest_fit_is_this_builds_and_refuses_a_missing_one() -> None:
    fits = _fits()
    assert predict.latest_fit(fits, "bg_nbd", AS_OF)["fit_id"] == "bg"
    with pytest.raises(ValueError, match="no pareto_nbd fit"):
        predict.latest_fit(fits, "pareto_nbd", AS_OF)
    with pytest.raises(ValueError, match="build it first"):
        predict.latest_fit(fits, "bg_nbd", pd.Timestamp("2025-01-01"))
    assert predict.estimates_of(fits.iloc[1], ("r", "a")) == {"r": 0.9, "a": 1.2}


def test_combined_fit_status_is_the_worse_one() -> None:
    def row(status: object) -> pd.Series:
        return pd.Series({"fit_status": status})

    assert predict.combined_fit_status(row(FIT_OK), row(FIT_OK)) == FIT_OK
    assert predict.combined_fit_status(row(FIT_OK), row(FIT_DEGENERATE)) == FIT_DEGENERATE
    assert predict.combined_fit_status(row(FIT_FAILED), row(FIT_DEGENERATE)) == FIT_FAILED
    # Rows written before the diagnostics existed have no status: they count as ok.
    assert predict.combined_fit_status(row(None), row(np.nan)) == FIT_OK
    assert predict.combined_fit_status(pd.Series({"fit_id": "x"}), row(FIT_OK)) == FIT_OK


def test_predict_clv_has_the_documented_columns_and_passes_the_fit_status_on() -> None:
    settings = PredictionSettings(horizon_days=365.0, discount_steps=12, interval_level=0.9, seed=1)
    scored = predict.predict_clv(_raw_summary(), _fits(), settings)
    documented = yaml.safe_load(
        (PROJECT_DIR / "models/intermediate/value/_int_value__models.yml").read_text()
    )
    (entry,) = [m for m in documented["models"] if m["name"] == "int_value__clv_predictions"]
    assert list(scored.columns) == [column["name"] for column in entry["columns"]]
    assert scored["purchase_fit_id"].unique().tolist() == ["bg"]
    assert (scored["clv_fit_status"] == FIT_OK).all()
    point = predict.point_predictions("bg_nbd", BG, _prepared(), 365.0, 12, 0.1)
    expected_clv = scored["expected_order_value"].to_numpy() * point["discounted_purchases"].to_numpy()
    assert scored["predicted_clv"].to_numpy() == pytest.approx(expected_clv)
    assert (scored["predicted_clv_lower"] <= scored["predicted_clv_upper"]).all()
    assert scored["p_alive"].between(0, 1).all() and scored["probability_no_purchase"].between(0, 1).all()
    # Same inputs, same numbers (seeded simulation).
    pd.testing.assert_frame_equal(scored, predict.predict_clv(_raw_summary(), _fits(), settings))
    # A degenerate spend fit: the same finite predictions, flagged.
    flagged = predict.predict_clv(_raw_summary(), _fits(spend_status=FIT_DEGENERATE), settings)
    assert (flagged["clv_fit_status"] == FIT_DEGENERATE).all()
    assert np.isfinite(flagged["predicted_clv"]).all()


# simulation -------------------------------------------------------------------------------


def test_purchase_times_are_ordered_within_the_horizon() -> None:
    rng = np.random.default_rng(0)
    would_make = np.array([5, 3, 1])
    made = np.array([2, 3, 1])
    owner, times = simulation.purchase_times_bg(rng, would_make, made, 100.0)
    assert owner.tolist() == [0, 0, 1, 1, 1, 2]
    assert ((times > 0) & (times <= 100.0)).all()
    for path in range(3):
        assert np.all(np.diff(times[owner == path]) > 0)


def test_interval_predictions_are_seeded_and_chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    summary = _prepared()
    draws, spend_draws = [BG] * 30, [SPEND] * 30
    whole = simulation.interval_predictions("bg_nbd", draws, spend_draws, summary, 365.0, 0.1, 0.9, seed=2)
    assert list(whole.columns) == [
        "customer_key",
        "predicted_clv_lower",
        "predicted_clv_upper",
        "probability_no_purchase",
    ]
    assert whole["customer_key"].tolist() == summary["customer_key"].tolist()
    assert (whole["predicted_clv_lower"] <= whole["predicted_clv_upper"]).all()
    again = simulation.interval_predictions("bg_nbd", draws, spend_draws, summary, 365.0, 0.1, 0.9, seed=2)
    pd.testing.assert_frame_equal(whole, again)
    # Chunks of one customer: each chunk has its own seeded generator, so the numbers move, but
    # the shape and the rules hold.
    monkeypatch.setattr(simulation, "SIMULATION_CELLS", 30)
    chunked = simulation.interval_predictions("bg_nbd", draws, spend_draws, summary, 365.0, 0.1, 0.9, seed=2)
    assert len(chunked) == len(summary) and (chunked["predicted_clv_lower"] >= 0).all()
