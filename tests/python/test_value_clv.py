"""The CLV statistics (orchestration/statistics/clv), without dbt: the weighted fit equals the
plain one, the conditional simulation behind the CLV intervals agrees with pymc-marketing's
closed-form expectations, and the interval rule holds its level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orchestration.statistics.clv import data, fit, posterior, predict, simulation
from orchestration.statistics.clv.likelihood import flat_priors
from orchestration.statistics.clv.settings import PURCHASE_MODEL_PARAMETERS, FitSettings

BG = {"r": 0.9, "alpha": 70.0, "a": 1.0, "b": 4.0}
PARETO = {"r": 0.9, "alpha": 70.0, "s": 0.8, "beta": 200.0}
SPEND = {"p": 6.0, "q": 4.0, "gamma": 30.0}
# A few customer histories: one-time buyers (young and old), a steady repeater, a lapsed one.
HISTORIES = pd.DataFrame(
    {
        "frequency": [0, 0, 3, 8, 5],
        "recency": [0.0, 0.0, 200.0, 300.0, 100.0],
        "T": [30.0, 500.0, 250.0, 320.0, 600.0],
        "monetary_value": [np.nan, np.nan, 55.0, 80.0, 40.0],
    }
)


def _simulate_bg_nbd(customers: int, seed: int) -> pd.DataFrame:
    """(frequency, recency, T) of customers following BG/NBD with the generator's parameters,
    observed for up to 400 days, on whole days."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(BG["r"], 1 / BG["alpha"], customers)
    dropout = rng.beta(BG["a"], BG["b"], customers)
    exposure = np.floor(rng.uniform(1, 400, customers))
    rows = []
    for rate, p, T in zip(lam, dropout, exposure, strict=True):
        t, times = 0.0, []
        while True:
            t += rng.exponential(1 / rate)
            if t > T:
                break
            times.append(np.floor(t))
            if rng.random() < p:
                break
        rows.append((len(times), times[-1] if times else 0.0, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return _simulate_bg_nbd(3000, seed=3)


def test_collapsed_rows_keep_every_customer(simulated: pd.DataFrame) -> None:
    rows = data.collapse_summary(simulated)
    print(f"{len(simulated)} customers -> {len(rows)} weighted rows")
    assert rows["weight"].sum() == len(simulated)
    assert not rows.duplicated(["frequency", "recency", "T"]).any()
    assert len(rows) < len(simulated)


@pytest.mark.slow
def test_weighted_fit_equals_the_plain_pymc_marketing_fit(simulated: pd.DataFrame) -> None:
    """Collapsing identical rows must not change the maximum-likelihood estimate."""
    from pymc_marketing import clv

    weighted = fit.fit_purchase_model(simulated, FitSettings(draws_count=50, seed=1))
    plain = clv.BetaGeoModel(model_config=flat_priors(PURCHASE_MODEL_PARAMETERS["bg_nbd"]))
    plain.fit(data=simulated.assign(customer_id=np.arange(len(simulated))), method="map", progressbar=False)
    for name in ("r", "alpha", "a", "b"):
        estimate = float(plain.fit_result[name].values.squeeze())
        print(f"{name}: weighted {weighted.estimates[name]:.4f} plain {estimate:.4f} planted {BG[name]}")
        assert weighted.estimates[name] == pytest.approx(estimate, rel=1e-3)
    assert weighted.converged
    assert len(weighted.draws) == 50
    # The Laplace standard errors are the spread of the draws (on the log scale, delta method).
    for name in ("r", "a"):
        spread = np.std([np.log(draw[name]) for draw in weighted.draws]) * weighted.estimates[name]
        assert spread == pytest.approx(weighted.standard_errors[name], rel=0.35)


@pytest.mark.parametrize(("model_name", "parameters"), [("bg_nbd", BG), ("pareto_nbd", PARETO)])
def test_simulation_matches_closed_form_expectations(model_name: str, parameters: dict[str, float]) -> None:
    """Without discounting, the mean simulated spend must equal pymc-marketing's expected
    purchases x Gamma-Gamma expected spend, per customer, within Monte Carlo error."""
    draws = 20_000
    summary = HISTORIES.assign(customer_key=[f"K{i}" for i in range(len(HISTORIES))])
    horizon = 365.0
    point = predict.point_predictions(model_name, parameters, summary, horizon, 1, 0.0)
    order_value = predict.expected_order_value(
        SPEND, summary["frequency"].to_numpy(), summary["monetary_value"].to_numpy()
    )
    expected = point["expected_purchases"].to_numpy() * order_value

    clv_model = posterior.purchase_model_with(model_name, [parameters] * draws)
    p_alive = posterior.draw_values(clv_model.expected_probability_alive(posterior.customer_frame(summary)))
    paths = simulation.simulate_discounted_spend(
        np.random.default_rng(11),
        model_name,
        [parameters] * draws,
        [SPEND] * draws,
        p_alive,
        summary["frequency"].to_numpy(),
        summary["recency"].to_numpy(),
        summary["T"].to_numpy(),
        summary["monetary_value"].to_numpy(),
        horizon,
        0.0,
    )
    simulated = paths.mean(axis=0)
    standard_error = paths.std(axis=0) / np.sqrt(draws)
    for i in range(len(summary)):
        print(
            f"{model_name} customer {i}: closed form {expected[i]:8.2f}  simulated {simulated[i]:8.2f} "
            f"(+/- {standard_error[i]:.2f})"
        )
    # 4 Monte Carlo standard errors: a wrong posterior (e.g. ignoring history) is off by far more.
    assert np.all(np.abs(simulated - expected) < 4 * standard_error + 1e-9)


def test_discounting_lowers_value_by_the_expected_factor() -> None:
    summary = HISTORIES.assign(customer_key=[f"K{i}" for i in range(len(HISTORIES))])
    plain = predict.point_predictions("bg_nbd", BG, summary, 365.0, 12, 0.0)
    discounted = predict.point_predictions("bg_nbd", BG, summary, 365.0, 12, 0.1)
    ratio = discounted["discounted_purchases"] / plain["discounted_purchases"]
    print(f"discounted / plain expected purchases at 10% a year: {ratio.round(4).tolist()}")
    # Purchases spread over the year are discounted by about half a year at 10%: 1.1 ** -0.5.
    assert ratio.between(1.1**-1, 1.0).all()
    assert ratio.mean() == pytest.approx(1.1**-0.5, abs=0.01)
    assert plain["discounted_purchases"].to_numpy() == pytest.approx(plain["expected_purchases"].to_numpy())


def test_interval_rule_holds_its_level() -> None:
    rng = np.random.default_rng(5)
    draws = 4000
    # A customer who surely buys (lognormal spend), one who buys half the time, one who never buys.
    sure = rng.lognormal(4, 0.5, draws)
    sometimes = np.where(rng.random(draws) < 0.5, rng.lognormal(4, 0.5, draws), 0.0)
    never = np.zeros(draws)
    paths = np.column_stack([sure, sometimes, never])
    lower, upper, zero_share = simulation.spend_interval(paths, 0.9)
    print(f"lower {lower.round(1)}, upper {upper.round(1)}, P(no purchase) {zero_share.round(3)}")
    assert lower[0] > 0  # equal-tailed for a sure buyer
    assert lower[1] == 0 and lower[2] == 0 and upper[2] == 0
    inside = (paths >= lower) & (paths <= upper)
    assert inside[:, 0].mean() == pytest.approx(0.9, abs=0.01)
    assert inside[:, 1].mean() == pytest.approx(0.9, abs=0.01)
