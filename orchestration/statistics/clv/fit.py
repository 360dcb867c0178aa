"""Fit the CLV models and record each fit: the rows of marts.clv_model_fit.

- purchase process: BG/NBD (default) or Pareto/NBD (var clv_model) on (frequency, recency, T),
  identical histories collapsed into weighted rows (likelihood.py);
- spend: Gamma-Gamma on (monetary_frequency, monetary_value) of customers with a repeat
  purchase: the mean revenue of their complete repeat purchase days and how many days it is
  taken over.

Both by MAP with flat priors, which is the maximum-likelihood estimate (pymc.find_MAP with
scipy's L-BFGS-B, asked for near machine precision), or by NUTS (var clv_fit_method). Each
fit is judged by diagnostics.py (ok, degenerate, failed) and carries standard errors and the
parameter draws int_value__clv_predictions simulates CLV intervals from (uncertainty.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pymc as pm

from orchestration.statistics.clv.data import collapse_summary, prepare_summary, repeat_buyers, summary_as_of
from orchestration.statistics.clv.diagnostics import FIT_OK, DiagnosticSettings, diagnose
from orchestration.statistics.clv.likelihood import spend_model, weighted_purchase_model
from orchestration.statistics.clv.serial import one_at_a_time
from orchestration.statistics.clv.settings import (
    ALL_PARAMETERS,
    MAP_OPTIMIZER_OPTIONS,
    MAP_TOLERANCE_STANDARD_ERRORS,
    MCMC_MAX_RHAT,
    SPEND_MODEL,
    SPEND_MODEL_PARAMETERS,
    FitSettings,
    pymc_name,
)
from orchestration.statistics.clv.uncertainty import laplace_draws, map_curvature, posterior_summary

PRIOR_DESCRIPTION = "flat (HalfFlat on every parameter)"
TIME_UNIT = "day"


@dataclass(frozen=True)
class Estimate:
    """What one fit found, in clv_model_fit's parameter names, before it is judged."""

    estimates: dict[str, float]
    standard_errors: dict[str, float]
    draws: list[dict[str, float]]
    log_likelihood: float
    convergence_measure: float
    optimum_reached: bool
    converged: bool
    fit_status: str
    fit_diagnostics: str


@dataclass(frozen=True)
class FitResult:
    """One fitted model: point estimates, uncertainty, the draws the scoring step uses, its verdict."""

    model_name: str
    model_role: str
    fit_method: str
    customers_fitted: int
    rows_fitted: int
    estimates: dict[str, float]
    standard_errors: dict[str, float]
    draws: list[dict[str, float]]
    log_likelihood: float
    converged: bool
    convergence_measure: float
    fit_seconds: float
    fit_status: str = FIT_OK
    fit_diagnostics: str = ""


def judge_fit(
    estimates: dict[str, float],
    errors: dict[str, float],
    optimum_reached: bool,
    measure: float,
    fit_method: str,
    settings: DiagnosticSettings | None = None,
) -> tuple[bool, str, str]:
    """converged, fit_status and fit_diagnostics of a fit (diagnostics.py).

    Under MAP the Newton step can only be measured with curvature: where the Hessian is not
    negative definite the standard errors are NaN, and the fit is degenerate, not failed.
    """
    if fit_method == "map":
        curvature = all(np.isfinite(value) for value in errors.values())
        optimiser_ok = optimum_reached or not curvature
        note = f"Newton step {measure:.3g} standard errors from the optimum, tolerance {MAP_TOLERANCE_STANDARD_ERRORS}"
    else:
        optimiser_ok = optimum_reached
        note = f"largest R-hat {measure:.3f}, tolerance {MCMC_MAX_RHAT}"
    diagnosis = diagnose(estimates, errors, optimiser_ok, note, settings)
    return diagnosis.is_ok, diagnosis.status, diagnosis.text


def estimate_map(model: pm.Model, names: tuple[str, ...], settings: FitSettings, seed: int) -> Estimate:
    """Maximum a posteriori (= maximum likelihood under flat priors), judged, with Laplace draws."""
    found = pm.find_MAP(model=model, progressbar=False, options=MAP_OPTIMIZER_OPTIONS)
    estimates = {name: float(np.asarray(found[pymc_name(name)]).squeeze()) for name in names}
    curvature = map_curvature(model, {pymc_name(name): value for name, value in estimates.items()})
    errors = {name: curvature.standard_errors[pymc_name(name)] for name in names}
    optimum_reached = curvature.usable and curvature.newton_decrement < MAP_TOLERANCE_STANDARD_ERRORS
    converged, status, text = judge_fit(
        estimates, errors, optimum_reached, curvature.newton_decrement, "map", settings.diagnostics
    )
    draws = laplace_draws(curvature, settings.draws_count, np.random.default_rng(seed), trusted=converged)
    return Estimate(
        estimates=estimates,
        standard_errors=errors,
        draws=[{name: draw[pymc_name(name)] for name in names} for draw in draws],
        log_likelihood=curvature.log_likelihood,
        convergence_measure=curvature.newton_decrement,
        optimum_reached=optimum_reached,
        converged=converged,
        fit_status=status,
        fit_diagnostics=text,
    )


def estimate_mcmc(model: pm.Model, names: tuple[str, ...], settings: FitSettings, seed: int) -> Estimate:
    """NUTS posterior, judged by R-hat and the diagnostics; posterior draws for a trusted fit."""
    idata = pm.sample(
        model=model,
        random_seed=seed,
        progressbar=False,
        chains=settings.mcmc.chains,
        draws=settings.mcmc.draws,
        tune=settings.mcmc.tune,
        cores=1,
    )
    summary = posterior_summary(model, idata, names, settings.draws_count)
    converged, status, text = judge_fit(
        summary.estimates,
        summary.standard_errors,
        summary.converged,
        summary.max_rhat,
        "mcmc",
        settings.diagnostics,
    )
    # As under MAP, an untrusted fit's draws are its point estimate (uncertainty.py).
    draws = summary.draws if converged else [dict(summary.estimates) for _ in summary.draws]
    return Estimate(
        estimates=summary.estimates,
        standard_errors=summary.standard_errors,
        draws=draws,
        log_likelihood=summary.log_likelihood,
        convergence_measure=summary.max_rhat,
        optimum_reached=summary.converged,
        converged=converged,
        fit_status=status,
        fit_diagnostics=text,
    )


def _result(
    model_name: str,
    role: str,
    settings: FitSettings,
    customers: int,
    rows: int,
    found: Estimate,
    seconds: float,
) -> FitResult:
    return FitResult(
        model_name=model_name,
        model_role=role,
        fit_method=settings.fit_method,
        customers_fitted=customers,
        rows_fitted=rows,
        estimates=found.estimates,
        standard_errors=found.standard_errors,
        draws=found.draws,
        log_likelihood=found.log_likelihood,
        converged=found.converged,
        convergence_measure=found.convergence_measure,
        fit_seconds=seconds,
        fit_status=found.fit_status,
        fit_diagnostics=found.fit_diagnostics,
    )


def _estimate(model: pm.Model, names: tuple[str, ...], settings: FitSettings, seed: int) -> Estimate:
    method = estimate_map if settings.fit_method == "map" else estimate_mcmc
    return method(model, names, settings, seed)


def fit_purchase_model(summary: pd.DataFrame, settings: FitSettings) -> FitResult:
    """BG/NBD or Pareto/NBD on the collapsed (frequency, recency, T) rows of `summary`."""
    rows = collapse_summary(summary)
    started = time.perf_counter()
    model = weighted_purchase_model(rows, settings.model_name)
    found = _estimate(model, settings.purchase_parameters, settings, settings.seed)
    seconds = time.perf_counter() - started
    return _result(settings.model_name, "purchases", settings, len(summary), len(rows), found, seconds)


def fit_spend_model(summary: pd.DataFrame, settings: FitSettings) -> FitResult:
    """Gamma-Gamma on the repeat buyers of `summary` (seed: the purchase model's + 1)."""
    data = repeat_buyers(summary)
    started = time.perf_counter()
    found = _estimate(spend_model(data), SPEND_MODEL_PARAMETERS, settings, settings.seed + 1)
    seconds = time.perf_counter() - started
    return _result(SPEND_MODEL, "spend", settings, len(data), len(data), found, seconds)


def fit_table(results: list[FitResult], as_of_date: date | str, fitted_at: datetime) -> pd.DataFrame:
    """One clv_model_fit row per fitted model (see _value__models.yml for the columns)."""
    rows = []
    for result in results:
        key = f"{result.model_name}|{as_of_date}|{fitted_at.isoformat()}"
        row = {
            "fit_id": hashlib.md5(key.encode("utf-8")).hexdigest(),
            "model_name": result.model_name,
            "model_role": result.model_role,
            "fit_method": result.fit_method,
            "prior": PRIOR_DESCRIPTION,
            "time_unit": TIME_UNIT,
            "as_of_date": as_of_date,
            "fitted_at": fitted_at.replace(tzinfo=None),
            "customers_fitted": result.customers_fitted,
            "rows_fitted": result.rows_fitted,
            "log_likelihood": result.log_likelihood,
            "converged": result.converged,
            "convergence_measure": result.convergence_measure,
            "fit_status": result.fit_status,
            "fit_diagnostics": result.fit_diagnostics or None,
            "fit_seconds": round(result.fit_seconds, 3),
        }
        for name in ALL_PARAMETERS:
            row[name] = result.estimates.get(name, np.nan)
            row[f"{name}_se"] = result.standard_errors.get(name, np.nan)
        row["parameter_draws_count"] = len(result.draws)
        row["parameter_draws"] = json.dumps(result.draws, separators=(",", ":"))
        rows.append(row)
    frame = pd.DataFrame(rows)
    # Text even when every fit is ok (all null): an all-null object column would become a
    # column of type NULL, which no later diagnostics could be appended to.
    frame["fit_diagnostics"] = frame["fit_diagnostics"].astype("string")
    return frame


@one_at_a_time
def fit_clv_models(
    raw_summary: pd.DataFrame, settings: FitSettings, fitted_at: datetime | None = None
) -> pd.DataFrame:
    """The clv_model_fit rows of one build: the purchase and the spend model fitted on
    int_value__purchase_summary (as read from the warehouse)."""
    as_of_date = summary_as_of(raw_summary)
    summary = prepare_summary(raw_summary)
    fitted_at = fitted_at or datetime.now(UTC)
    results = [fit_purchase_model(summary, settings), fit_spend_model(summary, settings)]
    return fit_table(results, as_of_date, fitted_at)
