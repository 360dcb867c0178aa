"""The CLV fit's modules one by one (orchestration/statistics/clv: settings, data, likelihood,
uncertainty, fit): settings parse dbt's rendered config and refuse what cannot be fitted, the
inputs keep every customer, the weighted likelihood is pymc-marketing's own on uncollapsed
data, the Laplace approximation gives the textbook standard error, and the fit table has the
columns its YAML documents. Small synthetic data; the real fits are in test_value_clv.py.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import yaml

from orchestration.statistics.clv import data, fit, likelihood, uncertainty
from orchestration.statistics.clv.diagnostics import FIT_DEGENERATE, FIT_FAILED, FIT_OK, DiagnosticSettings
from orchestration.statistics.clv.settings import (
    ALL_PARAMETERS,
    FitSettings,
    McmcSettings,
    PredictionSettings,
    pymc_name,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
# A few histories, twice each, so collapsing has something to do.
HISTORIES = pd.DataFrame(
    {
        "frequency": [0, 0, 3, 8, 5, 0, 3],
        "recency": [0.0, 0.0, 200.0, 300.0, 100.0, 0.0, 200.0],
        "T": [30.0, 500.0, 250.0, 320.0, 600.0, 30.0, 250.0],
    }
)


def _documented_columns(yaml_path: str, model_name: str) -> list[str]:
    document = yaml.safe_load((PROJECT_DIR / yaml_path).read_text())
    (entry,) = [model for model in document["models"] if model["name"] == model_name]
    return [column["name"] for column in entry["columns"]]


# settings ---------------------------------------------------------------------------------


def test_fit_settings_parse_rendered_config_values() -> None:
    settings = FitSettings.from_config(
        {
            "clv_model": "pareto_nbd",
            "clv_fit_method": "mcmc",
            "clv_interval_draws": "50",
            "clv_random_seed": "7",
            "clv_mcmc_chains": "4",
            "clv_mcmc_draws": "300",
            "clv_mcmc_tune": "200",
            "clv_max_relative_se": "2.5",
            "clv_bound_tolerance": "",
            "clv_parameter_max": None,
        }
    )
    assert settings == FitSettings(
        model_name="pareto_nbd",
        fit_method="mcmc",
        draws_count=50,
        seed=7,
        mcmc=McmcSettings(chains=4, draws=300, tune=200),
        diagnostics=DiagnosticSettings(max_relative_se=2.5),
    )
    assert settings.purchase_parameters == ("r", "alpha", "s", "beta")
    assert FitSettings.from_config({}) == FitSettings()


def test_settings_refuse_what_cannot_be_fitted_by_name() -> None:
    with pytest.raises(ValueError, match="clv_model"):
        FitSettings.from_config({"clv_model": "lifetimes"})
    with pytest.raises(ValueError, match="clv_fit_method"):
        FitSettings.from_config({"clv_fit_method": "advi"})
    with pytest.raises(ValueError, match="clv_interval_draws"):
        FitSettings(draws_count=0)
    with pytest.raises(ValueError, match="clv_interval_level"):
        PredictionSettings.from_config({"clv_interval_level": "1.5"})


def test_prediction_settings_parse_rendered_config_values() -> None:
    settings = PredictionSettings.from_config(
        {
            "clv_model": "bg_nbd",
            "clv_horizon_days": "364",
            "clv_annual_discount_rate": "0.05",
            "clv_discount_steps": "4",
            "clv_interval_level": "0.8",
            "clv_random_seed": "3",
        }
    )
    assert settings == PredictionSettings("bg_nbd", 364.0, 0.05, 4, 0.8, 3)
    assert PredictionSettings.from_config({}) == PredictionSettings()
    assert pymc_name("gamma") == "v" and pymc_name("alpha") == "alpha"


# data -------------------------------------------------------------------------------------


def _raw_summary() -> pd.DataFrame:
    """int_value__purchase_summary's shape, out of key order, without monetary_frequency."""
    return pd.DataFrame(
        {
            "customer_key": ["c", "a", "b"],
            "as_of_date": [pd.Timestamp("2026-09-29")] * 3,
            "frequency": [2, 0, 1],
            "recency_days": [40, 0, 10],
            "t_days": [90, 30, 60],
            "monetary_value": [50.0, np.nan, 0.0],
        }
    )


def test_prepare_summary_renames_and_sorts() -> None:
    summary = data.prepare_summary(_raw_summary())
    assert list(summary.columns) == [
        "customer_key",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "monetary_frequency",
    ]
    assert summary["customer_key"].tolist() == ["a", "b", "c"]
    assert summary["recency"].tolist() == [0.0, 10.0, 40.0] and summary["T"].dtype == float
    # Without monetary_frequency the mean spend is over every repeat purchase day.
    assert summary["monetary_frequency"].tolist() == [0, 1, 2]
    assert data.summary_as_of(_raw_summary()) == date(2026, 9, 29)
    with pytest.raises(ValueError, match="empty"):
        data.summary_as_of(_raw_summary().iloc[0:0])


def test_collapse_summary_weights_distinct_histories() -> None:
    rows = data.collapse_summary(HISTORIES)
    assert rows["weight"].sum() == len(HISTORIES)
    assert len(rows) == 5
    assert rows["customer_id"].tolist() == list(range(5))
    assert rows.loc[(rows["frequency"] == 3), "weight"].item() == 2
    assert rows.equals(data.collapse_summary(HISTORIES.sample(frac=1.0, random_state=1)))


def test_repeat_buyers_are_those_with_a_positive_mean_repeat_spend() -> None:
    buyers = data.repeat_buyers(data.prepare_summary(_raw_summary()))
    assert buyers.to_dict("list") == {"customer_id": [0], "monetary_value": [50.0], "frequency": [2.0]}


# likelihood -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_name", "point"),
    [
        ("bg_nbd", {"r": 0.9, "alpha": 70.0, "a": 1.1, "b": 4.0}),
        ("pareto_nbd", {"r": 0.9, "alpha": 70.0, "s": 0.8, "beta": 200.0}),
    ],
)
def test_weighted_likelihood_is_pymc_marketings_on_uncollapsed_rows(model_name: str, point: dict) -> None:
    """Collapsing changes the graph, not the log-likelihood: at any parameter values the
    weighted model's log density equals pymc-marketing's own model on one row per customer."""
    from pymc_marketing import clv

    weighted = likelihood.weighted_purchase_model(data.collapse_summary(HISTORIES), model_name)
    cls = {"bg_nbd": clv.BetaGeoModel, "pareto_nbd": clv.ParetoNBDModel}[model_name]
    plain = cls(model_config=likelihood.flat_priors(tuple(point)))
    plain.build_model(HISTORIES.assign(customer_id=np.arange(len(HISTORIES))))
    assert [v.name for v in weighted.value_vars] == [f"{name}_log__" for name in point]
    for scale in (1.0, 0.5, 2.0):
        values = {name: value * scale for name, value in point.items()}
        expected = uncertainty.log_likelihood_at(plain.model, values)
        assert uncertainty.log_likelihood_at(weighted, values) == pytest.approx(expected, rel=1e-10)


def test_spend_model_has_flat_priors_on_p_q_v() -> None:
    buyers = pd.DataFrame({"customer_id": [0, 1], "monetary_value": [40.0, 60.0], "frequency": [1.0, 3.0]})
    model = likelihood.spend_model(buyers)
    assert sorted(v.name for v in model.value_vars) == ["p_log__", "q_log__", "v_log__"]
    # HalfFlat: the log density is the Gamma-Gamma log-likelihood, no prior term.
    p, q, v = 6.0, 4.0, 30.0
    x, z = buyers["frequency"].to_numpy(), buyers["monetary_value"].to_numpy()
    from scipy.special import gammaln

    by_hand = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(z)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * z + v)
    ).sum()
    assert uncertainty.log_likelihood_at(model, {"p": p, "q": q, "v": v}) == pytest.approx(by_hand, rel=1e-10)


# uncertainty ------------------------------------------------------------------------------

COUNTS = np.array([3, 0, 2, 5, 1, 4, 2, 3, 1, 2])


def _poisson_rate_model() -> pm.Model:
    """A one-parameter model whose MLE (the mean) and standard error (sqrt(mean / n)) are known."""
    with pm.Model() as model:
        rate = pm.HalfFlat("rate")
        pm.Potential("likelihood", pm.logp(pm.Poisson.dist(rate), COUNTS).sum())
    return model


def test_map_curvature_gives_the_textbook_standard_error() -> None:
    mean = COUNTS.mean()
    curvature = uncertainty.map_curvature(_poisson_rate_model(), {"rate": mean})
    assert curvature.usable
    assert curvature.standard_errors["rate"] == pytest.approx(math.sqrt(mean / len(COUNTS)), rel=1e-5)
    assert curvature.newton_decrement == pytest.approx(0.0, abs=1e-5)
    from scipy.stats import poisson

    assert curvature.log_likelihood == pytest.approx(poisson.logpmf(COUNTS, mean).sum(), rel=1e-10)
    # Off the optimum the Newton step says how far, in standard errors (here 1 SE on the log scale).
    away = uncertainty.map_curvature(
        _poisson_rate_model(), {"rate": mean * math.exp(1 / math.sqrt(COUNTS.sum()))}
    )
    assert away.newton_decrement == pytest.approx(1.0, rel=0.05)


def test_laplace_draws_carry_uncertainty_only_for_a_trusted_fit() -> None:
    mean = COUNTS.mean()
    curvature = uncertainty.map_curvature(_poisson_rate_model(), {"rate": mean})
    draws = uncertainty.laplace_draws(curvature, 4000, np.random.default_rng(0), trusted=True)
    log_rates = np.log([draw["rate"] for draw in draws])
    assert np.std(log_rates) * mean == pytest.approx(curvature.standard_errors["rate"], rel=0.05)
    untrusted = uncertainty.laplace_draws(curvature, 5, np.random.default_rng(0), trusted=False)
    assert untrusted == [{"rate": pytest.approx(mean, rel=1e-12)}] * 5


def test_laplace_draws_never_overflow() -> None:
    """A covariance of a flat ridge (log-scale sd 1e4) would give exp(1e4) = inf and
    exp(-1e4) = 0: the point estimate is kept instead, finite and positive."""
    flat = uncertainty.Curvature(
        names=("a", "b"),
        centre=np.log([0.5, 3.0]),
        covariance=np.diag([1e8, 1.0]),
        standard_errors={"a": 5e3, "b": 3.0},
        log_likelihood=-10.0,
        newton_decrement=0.0,
    )
    with np.errstate(all="raise"):
        draws = uncertainty.laplace_draws(flat, 50, np.random.default_rng(1), trusted=True)
    assert all(math.isfinite(value) for draw in draws for value in draw.values())
    assert draws[0] == {"a": pytest.approx(0.5), "b": pytest.approx(3.0)}
    # No curvature (singular Hessian): the point estimate as well.
    none = uncertainty.Curvature(("a",), np.log([0.5]), None, {"a": math.nan}, math.nan, math.inf)
    assert not none.usable
    assert (
        uncertainty.laplace_draws(none, 3, np.random.default_rng(1), trusted=True)
        == [{"a": pytest.approx(0.5)}] * 3
    )


def test_posterior_summary_thins_draws_and_measures_mixing() -> None:
    import arviz as az

    rng = np.random.default_rng(2)
    mixed = az.from_dict(posterior={"rate": rng.normal(2.3, 0.5, (2, 400))})
    summary = uncertainty.posterior_summary(_poisson_rate_model(), mixed, ("rate",), 10)
    assert summary.estimates["rate"] == pytest.approx(2.3, abs=0.05)
    assert summary.standard_errors["rate"] == pytest.approx(0.5, rel=0.1)
    assert len(summary.draws) == 10 and summary.converged
    from scipy.stats import poisson

    assert summary.log_likelihood == pytest.approx(poisson.logpmf(COUNTS, summary.estimates["rate"]).sum())
    # Two chains stuck in different places do not mix.
    stuck = az.from_dict(posterior={"rate": np.stack([rng.normal(1, 0.1, 400), rng.normal(3, 0.1, 400)])})
    assert not uncertainty.posterior_summary(_poisson_rate_model(), stuck, ("rate",), 10).converged


# fit --------------------------------------------------------------------------------------


def test_judge_fit_tells_degenerate_from_failed() -> None:
    estimates, errors = {"r": 0.9, "alpha": 70.0}, {"r": 0.05, "alpha": 4.0}
    assert fit.judge_fit(estimates, errors, True, 1e-6, "map") == (True, FIT_OK, "")
    # MAP without curvature cannot measure its Newton step: degenerate, not failed.
    nan_errors = dict.fromkeys(estimates, math.nan)
    converged, status, text = fit.judge_fit(estimates, nan_errors, False, math.inf, "map")
    assert (converged, status) == (False, FIT_DEGENERATE) and "not finite" in text
    converged, status, text = fit.judge_fit(estimates, errors, False, 0.5, "map")
    assert (converged, status) == (False, FIT_FAILED) and "Newton step 0.5" in text
    converged, status, text = fit.judge_fit(estimates, errors, False, 1.2, "mcmc")
    assert (converged, status) == (False, FIT_FAILED) and "R-hat 1.200" in text


def test_estimate_map_finds_the_maximum_likelihood_and_its_draws() -> None:
    found = fit.estimate_map(_poisson_rate_model(), ("rate",), FitSettings(draws_count=20, seed=3), seed=3)
    assert found.estimates["rate"] == pytest.approx(COUNTS.mean(), rel=1e-8)
    assert found.fit_status == FIT_OK and found.converged and found.optimum_reached
    assert len(found.draws) == 20 and len({draw["rate"] for draw in found.draws}) == 20
    again = fit.estimate_map(_poisson_rate_model(), ("rate",), FitSettings(draws_count=20, seed=3), seed=3)
    assert again.draws == found.draws


@pytest.mark.slow
def test_estimate_mcmc_summarises_the_posterior() -> None:
    settings = FitSettings(
        fit_method="mcmc", draws_count=25, mcmc=McmcSettings(chains=2, draws=300, tune=300)
    )
    found = fit.estimate_mcmc(_poisson_rate_model(), ("rate",), settings, seed=5)
    error = math.sqrt(COUNTS.mean() / len(COUNTS))
    print(found.estimates, found.standard_errors, found.convergence_measure)
    # Flat prior: the posterior is Gamma(sum + 1, n), mean (sum + 1) / n, sd about the MLE's SE.
    assert found.estimates["rate"] == pytest.approx((COUNTS.sum() + 1) / len(COUNTS), abs=3 * error / 10)
    assert found.standard_errors["rate"] == pytest.approx(error, rel=0.25)
    assert found.fit_status == FIT_OK and found.convergence_measure < 1.01
    assert len(found.draws) == 25 and len({draw["rate"] for draw in found.draws}) > 1


def _result(**changes) -> fit.FitResult:
    base = {
        "model_name": "bg_nbd",
        "model_role": "purchases",
        "fit_method": "map",
        "customers_fitted": 100,
        "rows_fitted": 80,
        "estimates": {"r": 0.9, "alpha": 70.0, "a": 1.0, "b": 4.0},
        "standard_errors": {"r": 0.05, "alpha": 4.0, "a": 0.1, "b": 0.5},
        "draws": [{"r": 0.9, "alpha": 70.0, "a": 1.0, "b": 4.0}] * 3,
        "log_likelihood": -1234.5,
        "converged": True,
        "convergence_measure": 1e-6,
        "fit_seconds": 1.23456,
    }
    return fit.FitResult(**{**base, **changes})


def test_fit_table_has_the_documented_columns() -> None:
    spend = _result(
        model_name="gamma_gamma",
        model_role="spend",
        estimates={"p": 6.0, "q": 4.0, "gamma": 30.0},
        standard_errors={"p": 0.5, "q": 0.2, "gamma": 3.0},
        draws=[{"p": 6.0, "q": 4.0, "gamma": 30.0}],
        fit_status=FIT_DEGENERATE,
        fit_diagnostics="q SE 9 > estimate 4",
    )
    table = fit.fit_table([_result(), spend], date(2026, 9, 29), datetime(2026, 9, 30, 6, 0))
    assert sorted(table.columns) == sorted(
        _documented_columns("models/marts/value/_value__models.yml", "clv_model_fit")
    )
    assert table["fit_id"].is_unique
    assert table["fit_status"].tolist() == [FIT_OK, FIT_DEGENERATE]
    assert (
        pd.isna(table.loc[0, "fit_diagnostics"]) and table.loc[1, "fit_diagnostics"] == "q SE 9 > estimate 4"
    )
    assert table.loc[0, "fit_seconds"] == 1.235 and table.loc[0, "parameter_draws_count"] == 3
    assert json.loads(table.loc[1, "parameter_draws"]) == [{"p": 6.0, "q": 4.0, "gamma": 30.0}]
    assert pd.isna(table.loc[0, "p"]) and table.loc[1, "gamma"] == 30.0
    assert set(ALL_PARAMETERS) <= set(table.columns)


@pytest.mark.slow
def test_fit_clv_models_fits_both_models_on_a_synthetic_summary() -> None:
    """BG/NBD and Gamma-Gamma on 1,500 simulated customers: two ok rows whose estimates lie within
    3 standard errors of the planted parameters (the recovery on generated data is test_value_e2e's)."""
    rng = np.random.default_rng(4)
    customers = 1500
    lam, dropout = rng.gamma(0.9, 1 / 70, customers), rng.beta(1.0, 4.0, customers)
    exposure = np.floor(rng.uniform(30, 700, customers))
    nu = rng.gamma(4.0, 1 / 30.0, customers)
    rows = []
    for i in range(customers):
        # Repeat purchase days after the first purchase (day 0); dropout after each one.
        t, days = 0.0, []
        while (t := t + rng.exponential(1 / lam[i])) <= exposure[i]:
            days.append(np.floor(t))
            if rng.random() < dropout[i]:
                break
        x = len(days)
        spend = rng.gamma(6.0, 1 / nu[i], x).mean() if x > 0 else np.nan
        rows.append((f"K{i:05d}", x, days[-1] if days else 0.0, exposure[i], spend))
    raw = pd.DataFrame(
        rows, columns=["customer_key", "frequency", "recency_days", "t_days", "monetary_value"]
    )
    raw["as_of_date"] = pd.Timestamp("2026-09-29")
    table = fit.fit_clv_models(raw, FitSettings(draws_count=20), fitted_at=datetime(2026, 9, 30))
    print(table.drop(columns=["parameter_draws"]).T)
    assert table["model_name"].tolist() == ["bg_nbd", "gamma_gamma"]
    assert table["fit_status"].tolist() == [FIT_OK, FIT_OK]
    assert table.loc[0, "customers_fitted"] == customers and table.loc[0, "rows_fitted"] < customers
    assert table.loc[1, "customers_fitted"] == int((raw["frequency"] > 0).sum())
    planted = {"r": 0.9, "alpha": 70.0, "a": 1.0, "b": 4.0, "p": 6.0, "q": 4.0, "gamma": 30.0}
    for row in (0, 1):
        for name, value in planted.items():
            if not pd.isna(table.loc[row, name]):
                assert abs(table.loc[row, name] - value) < 3 * table.loc[row, f"{name}_se"], name
    assert all(len(json.loads(draws)) == 20 for draws in table["parameter_draws"])
