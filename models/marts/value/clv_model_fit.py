"""dbt Python model: fit the CLV models with pymc-marketing and record each fit.

Fits, on int_value__purchase_summary (one row per customer with a purchase, time unit day):
- the purchase process, BG/NBD (default) or Pareto/NBD (var clv_model), on (frequency, recency, T);
- Gamma-Gamma spend on (monetary_frequency, monetary_value) of customers with a repeat purchase:
  the mean revenue of their complete repeat purchase days and how many days it is taken over.

Fit by MAP with flat priors (HalfFlat on every parameter), which is the maximum-likelihood
estimate, or by MCMC (var clv_fit_method). Customers with identical (frequency, recency, T) are
collapsed into one weighted row: pymc-marketing's BetaGeoModel/ParetoNBDModel take no weights,
so a subclass replaces their observed likelihood by the same pymc-marketing distribution's
log-density times the row weight (a Potential); the estimate is identical, the graph smaller.

Each build appends one row per fitted model (incremental), so runs can be compared; every row
also carries parameter draws (JSON) that int_value__clv_predictions uses for CLV intervals:
under MAP a Laplace approximation (multivariate normal on the log parameters, covariance the
inverse Hessian of the log-likelihood at the estimate); under MCMC thinned posterior draws.

Each row also says whether the fit can be trusted (orchestration/statistics/clv/diagnostics.py): fit_status
'failed' when the optimiser did not reach the optimum (or R-hat is too high), 'degenerate' when
it stopped at a point that does not identify the model (a parameter at a bound, a standard error
that is not finite or above clv_max_relative_se times the estimate), else 'ok'; fit_diagnostics
names the parameters and reasons, and `converged` is true only for 'ok'.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from orchestration.statistics.clv.diagnostics import DiagnosticSettings, diagnose

# Parameter names as recorded in clv_model_fit, per model; Gamma-Gamma's rate is "v" in
# pymc-marketing and "gamma" in Fader & Hardie's notes and in the table.
PURCHASE_MODEL_PARAMETERS: dict[str, tuple[str, ...]] = {
    "bg_nbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
}
SPEND_MODEL_PARAMETERS: tuple[str, ...] = ("p", "q", "gamma")
ALL_PARAMETERS: tuple[str, ...] = ("r", "alpha", "a", "b", "s", "beta", "p", "q", "gamma")
PYMC_NAMES: dict[str, str] = {"gamma": "v"}
FIT_METHODS = ("map", "mcmc")
# A fit counts as converged when the Newton step left to the optimum is under 1% of a
# standard error (MAP), or when every R-hat is under 1.01 (MCMC).
MAP_TOLERANCE_STANDARD_ERRORS = 0.01
MCMC_MAX_RHAT = 1.01
# scipy's L-BFGS-B stops on a relative change of the log-likelihood (default 2e-9); with a
# million customers that leaves the estimate a few hundredths of a standard error short of the
# optimum, so ask for (near) machine precision: it costs a few more gradient evaluations.
MAP_OPTIMIZER_OPTIONS = {"ftol": 1e-13, "gtol": 1e-9}
# Step, in log-parameter units, of the finite differences that give the Hessian.
HESSIAN_STEP = 1e-4


class FitResult(NamedTuple):
    """One fitted model: point estimates, uncertainty and the draws the scoring step uses.

    A NamedTuple, not a dataclass: dbt-duckdb runs this file as a module missing from
    sys.modules, where dataclasses fail.
    """

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
    fit_status: str = "ok"
    fit_diagnostics: str = ""


def flat_priors(names: tuple[str, ...]) -> dict:
    """HalfFlat on every parameter: the MAP estimate is then the maximum-likelihood estimate."""
    from pymc_extras.prior import Prior

    return {PYMC_NAMES.get(name, name): Prior("HalfFlat") for name in names}


def collapse_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """One weighted row per distinct (frequency, recency, T), sorted so the fit is deterministic."""
    grouped = summary.groupby(["frequency", "recency", "T"], sort=True).size().rename("weight").reset_index()
    grouped["customer_id"] = np.arange(len(grouped))
    return grouped[["customer_id", "frequency", "recency", "T", "weight"]]


def weighted_purchase_model_class(model_name: str) -> type:
    """pymc-marketing's model class for `model_name`, with a weighted likelihood."""
    import pymc as pm
    from pymc_marketing import clv
    from pymc_marketing.clv.distributions import BetaGeoNBD, ParetoNBD

    base, distribution = {
        "bg_nbd": (clv.BetaGeoModel, BetaGeoNBD),
        "pareto_nbd": (clv.ParetoNBDModel, ParetoNBD),
    }[model_name]
    parameters = PURCHASE_MODEL_PARAMETERS[model_name]

    class WeightedModel(base):  # type: ignore[misc, valid-type]
        """The same likelihood as `base`, each row counted `weight` times; no covariates."""

        def _validate_data(self, data: pd.DataFrame) -> None:
            self._validate_cols(
                data,
                required_cols=["customer_id", "frequency", "recency", "T", "weight"],
                must_be_unique=["customer_id"],
            )

        def build_model(self, data: pd.DataFrame | None = None) -> None:
            if data is not None:
                self._validate_data(data)
                self.data = data
            data = self.data
            coords = {
                "customer_id": data["customer_id"],
                "obs_var": ["recency", "frequency"],
                "purchase_covariate": [],
                "dropout_covariate": [],
            }
            with pm.Model(coords=coords) as self.model:
                values = {name: self.model_config[name].create_variable(name) for name in parameters}
                # Data containers, not constants: the compiled graph then does not depend on the
                # data, and pytensor's compile cache serves the next build's fit.
                observed = pm.Data(
                    "observed",
                    np.stack(
                        (data["recency"].to_numpy(dtype=float), data["frequency"].to_numpy(dtype=float)),
                        axis=1,
                    ),
                )
                exposure = pm.Data("T", data["T"].to_numpy(dtype=float))
                weights = pm.Data("weight", data["weight"].to_numpy(dtype=float))
                density = distribution.dist(**values, T=exposure)
                pm.Potential("recency_frequency", (weights * pm.logp(density, observed)).sum())

    WeightedModel.__name__ = f"Weighted{base.__name__}"
    return WeightedModel


def point_in_value_space(model, estimates: dict[str, float]) -> dict[str, np.ndarray]:
    """The estimates as values of the model's free variables (log-transformed for HalfFlat)."""
    point = {}
    for variable in model.value_vars:
        name = variable.name.removesuffix("_log__")
        value = estimates[name]
        point[variable.name] = np.asarray(np.log(value) if variable.name.endswith("_log__") else value)
    return point


def laplace(model, point: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, float]:
    """Covariance of the log parameters (inverse negative Hessian), the gradient, the log-likelihood.

    With flat priors and jacobian=False the model's log density is the log-likelihood, and at the
    maximum the Hessian in log space needs no gradient term. The Hessian is taken by central
    differences of the analytic gradient: compiling pytensor's symbolic Hessian costs seconds
    to minutes, while a few gradient calls cost milliseconds.
    """
    names = [variable.name for variable in model.value_vars]
    gradient_function = model.compile_dlogp(jacobian=False)
    log_likelihood = float(model.compile_logp(jacobian=False)(point))

    def gradient_at(values: np.ndarray) -> np.ndarray:
        return np.asarray(gradient_function(dict(zip(names, values, strict=True))), dtype=float)

    centre = np.array([float(point[name]) for name in names])
    gradient = gradient_at(centre)
    hessian = np.empty((len(names), len(names)))
    for i in range(len(names)):
        step = np.zeros(len(names))
        step[i] = HESSIAN_STEP
        hessian[:, i] = (gradient_at(centre + step) - gradient_at(centre - step)) / (2 * HESSIAN_STEP)
    hessian = (hessian + hessian.T) / 2
    covariance = np.linalg.inv(-hessian)
    return covariance, gradient, log_likelihood


def map_uncertainty(
    model, estimates: dict[str, float], draws_count: int, rng: np.random.Generator
) -> tuple[dict[str, float], list[dict[str, float]], float, float, bool]:
    """Standard errors (delta method), Laplace draws, log-likelihood and convergence of a MAP fit."""
    point = point_in_value_space(model, estimates)
    names = [variable.name.removesuffix("_log__") for variable in model.value_vars]
    centre = np.array([float(point[variable.name]) for variable in model.value_vars])
    try:
        covariance, gradient, log_likelihood = laplace(model, point)
        eigenvalues = np.linalg.eigvalsh(covariance)
        newton_decrement = float(np.sqrt(max(gradient @ covariance @ gradient, 0.0)))
        usable = bool(np.all(np.isfinite(covariance)) and np.all(eigenvalues > 0))
    except np.linalg.LinAlgError:
        covariance, log_likelihood, newton_decrement, usable = None, float("nan"), float("inf"), False
    if not usable:
        # No curvature information: intervals then carry the purchase/spend randomness only.
        samples = np.tile(centre, (draws_count, 1))
        errors = dict.fromkeys(names, float("nan"))
    else:
        samples = rng.multivariate_normal(centre, covariance, size=draws_count, method="eigh")
        log_errors = np.sqrt(np.diag(covariance))
        errors = {name: float(estimates[name] * log_errors[i]) for i, name in enumerate(names)}
    draws = [dict(zip(names, map(float, np.exp(row)), strict=True)) for row in samples]
    converged = usable and newton_decrement < MAP_TOLERANCE_STANDARD_ERRORS
    return errors, draws, log_likelihood, newton_decrement, converged


def mcmc_summary(
    model, idata, names: tuple[str, ...], draws_count: int
) -> tuple[dict[str, float], dict[str, float], list[dict[str, float]], float, float, bool]:
    """Posterior means, posterior sds, evenly thinned draws, log-likelihood at the mean, max R-hat."""
    import arviz as az

    posterior = idata.posterior
    pymc_names = [PYMC_NAMES.get(name, name) for name in names]
    flat = {name: posterior[pymc].values.reshape(-1) for name, pymc in zip(names, pymc_names, strict=True)}
    estimates = {name: float(values.mean()) for name, values in flat.items()}
    errors = {name: float(values.std(ddof=1)) for name, values in flat.items()}
    picks = np.linspace(0, len(next(iter(flat.values()))) - 1, draws_count).round().astype(int)
    draws = [{name: float(flat[name][i]) for name in names} for i in picks]
    rhat = az.rhat(idata, var_names=pymc_names)
    max_rhat = float(max(float(rhat[name].values) for name in pymc_names))
    point = point_in_value_space(model, {PYMC_NAMES.get(k, k): v for k, v in estimates.items()})
    log_likelihood = float(model.compile_logp(jacobian=False)(point))
    return estimates, errors, draws, log_likelihood, max_rhat, max_rhat < MCMC_MAX_RHAT


def fit_model(
    clv_model,
    data: pd.DataFrame,
    names: tuple[str, ...],
    fit_method: str,
    draws_count: int,
    seed: int,
    mcmc_settings: dict[str, int],
) -> tuple[dict[str, float], dict[str, float], list[dict[str, float]], float, float, bool]:
    """Fit one pymc-marketing model and summarise it (estimates, errors, draws, fit quality)."""
    rng = np.random.default_rng(seed)
    if fit_method == "map":
        clv_model.fit(data=data, method="map", progressbar=False, options=MAP_OPTIMIZER_OPTIONS)
        posterior = clv_model.fit_result
        estimates = {name: float(posterior[PYMC_NAMES.get(name, name)].values.squeeze()) for name in names}
        pymc_estimates = {PYMC_NAMES.get(k, k): v for k, v in estimates.items()}
        errors, draws, log_likelihood, measure, converged = map_uncertainty(
            clv_model.model, pymc_estimates, draws_count, rng
        )
        errors = {name: errors[PYMC_NAMES.get(name, name)] for name in names}
        draws = [{name: draw[PYMC_NAMES.get(name, name)] for name in names} for draw in draws]
        return estimates, errors, draws, log_likelihood, measure, converged
    idata = clv_model.fit(
        data=data,
        method="mcmc",
        random_seed=seed,
        progressbar=False,
        chains=mcmc_settings["chains"],
        draws=mcmc_settings["draws"],
        tune=mcmc_settings["tune"],
        cores=1,
    )
    return mcmc_summary(clv_model.model, idata, names, draws_count)


def judge_fit(
    estimates: dict[str, float],
    errors: dict[str, float],
    optimum_reached: bool,
    measure: float,
    fit_method: str,
    settings: DiagnosticSettings | None,
) -> tuple[bool, str, str]:
    """converged, fit_status and fit_diagnostics of a fit (orchestration.statistics.clv.diagnostics).

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


def fit_purchase_model(
    summary: pd.DataFrame,
    model_name: str,
    fit_method: str,
    draws_count: int,
    seed: int,
    mcmc_settings: dict[str, int],
    diagnostic_settings: DiagnosticSettings | None = None,
) -> FitResult:
    """Fit BG/NBD or Pareto/NBD on the collapsed (frequency, recency, T) rows."""
    names = PURCHASE_MODEL_PARAMETERS[model_name]
    rows = collapse_summary(summary)
    started = time.perf_counter()
    clv_model = weighted_purchase_model_class(model_name)(model_config=flat_priors(names))
    estimates, errors, draws, log_likelihood, measure, optimum_reached = fit_model(
        clv_model, rows, names, fit_method, draws_count, seed, mcmc_settings
    )
    converged, status, diagnostics = judge_fit(
        estimates, errors, optimum_reached, measure, fit_method, diagnostic_settings
    )
    return FitResult(
        model_name=model_name,
        model_role="purchases",
        fit_method=fit_method,
        customers_fitted=len(summary),
        rows_fitted=len(rows),
        estimates=estimates,
        standard_errors=errors,
        draws=draws,
        log_likelihood=log_likelihood,
        converged=converged,
        convergence_measure=measure,
        fit_seconds=time.perf_counter() - started,
        fit_status=status,
        fit_diagnostics=diagnostics,
    )


def fit_spend_model(
    summary: pd.DataFrame,
    fit_method: str,
    draws_count: int,
    seed: int,
    mcmc_settings: dict[str, int],
    diagnostic_settings: DiagnosticSettings | None = None,
) -> FitResult:
    """Fit Gamma-Gamma on customers with a repeat purchase and a positive mean repeat spend."""
    from pymc_marketing import clv

    repeaters = summary[(summary["monetary_frequency"] > 0) & (summary["monetary_value"] > 0)]
    data = pd.DataFrame(
        {
            "customer_id": np.arange(len(repeaters)),
            "monetary_value": repeaters["monetary_value"].to_numpy(dtype=float),
            "frequency": repeaters["monetary_frequency"].to_numpy(dtype=float),
        }
    )
    started = time.perf_counter()
    clv_model = clv.GammaGammaModel(model_config=flat_priors(SPEND_MODEL_PARAMETERS))
    estimates, errors, draws, log_likelihood, measure, optimum_reached = fit_model(
        clv_model, data, SPEND_MODEL_PARAMETERS, fit_method, draws_count, seed, mcmc_settings
    )
    converged, status, diagnostics = judge_fit(
        estimates, errors, optimum_reached, measure, fit_method, diagnostic_settings
    )
    return FitResult(
        model_name="gamma_gamma",
        model_role="spend",
        fit_method=fit_method,
        customers_fitted=len(data),
        rows_fitted=len(data),
        estimates=estimates,
        standard_errors=errors,
        draws=draws,
        log_likelihood=log_likelihood,
        converged=converged,
        convergence_measure=measure,
        fit_seconds=time.perf_counter() - started,
        fit_status=status,
        fit_diagnostics=diagnostics,
    )


def prepare_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The SQL summary under pymc-marketing's column names (recency, T), sorted by customer_key."""
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


def fit_rows(results: list[FitResult], as_of_date, fitted_at: datetime) -> pd.DataFrame:
    """One output row per fitted model."""
    rows = []
    for result in results:
        key = f"{result.model_name}|{as_of_date}|{fitted_at.isoformat()}"
        row = {
            "fit_id": hashlib.md5(key.encode("utf-8")).hexdigest(),
            "model_name": result.model_name,
            "model_role": result.model_role,
            "fit_method": result.fit_method,
            "prior": "flat (HalfFlat on every parameter)",
            "time_unit": "day",
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


def model(dbt, session) -> pd.DataFrame:
    # New columns (fit_status, fit_diagnostics) are added to a table built before them; the
    # rows already there keep null in them.
    dbt.config(
        materialized="incremental", incremental_strategy="append", on_schema_change="append_new_columns"
    )
    # One plain call per setting: dbt finds meta_get calls by reading this file, not by running it.
    model_name = dbt.config.meta_get("clv_model", "bg_nbd")
    fit_method = dbt.config.meta_get("clv_fit_method", "map")
    draws_count = dbt.config.meta_get("clv_interval_draws", 200)
    seed = dbt.config.meta_get("clv_random_seed", 0)
    mcmc_chains = dbt.config.meta_get("clv_mcmc_chains", 2)
    mcmc_draws = dbt.config.meta_get("clv_mcmc_draws", 500)
    mcmc_tune = dbt.config.meta_get("clv_mcmc_tune", 500)
    max_relative_se = dbt.config.meta_get("clv_max_relative_se", 1.0)
    bound_tolerance = dbt.config.meta_get("clv_bound_tolerance", 0.001)
    parameter_max = dbt.config.meta_get("clv_parameter_max", 1000000.0)
    model_name, fit_method = str(model_name), str(fit_method)
    if model_name not in PURCHASE_MODEL_PARAMETERS:
        raise ValueError(
            f"var clv_model must be one of {sorted(PURCHASE_MODEL_PARAMETERS)}, got {model_name!r}"
        )
    if fit_method not in FIT_METHODS:
        raise ValueError(f"var clv_fit_method must be one of {FIT_METHODS}, got {fit_method!r}")
    mcmc_settings = {"chains": int(mcmc_chains), "draws": int(mcmc_draws), "tune": int(mcmc_tune)}
    diagnostic_settings = DiagnosticSettings.from_mapping(
        {
            "max_relative_se": max_relative_se,
            "bound_tolerance": bound_tolerance,
            "parameter_max": parameter_max,
        }
    )

    raw = dbt.ref("int_value__purchase_summary").df()
    if raw.empty:
        raise ValueError("int_value__purchase_summary is empty: there is nothing to fit the CLV models on")
    as_of_date = pd.Timestamp(raw["as_of_date"].iloc[0]).date()
    summary = prepare_summary(raw)
    fitted_at = datetime.now(UTC)
    results = [
        fit_purchase_model(
            summary, model_name, fit_method, int(draws_count), int(seed), mcmc_settings, diagnostic_settings
        ),
        fit_spend_model(
            summary, fit_method, int(draws_count), int(seed) + 1, mcmc_settings, diagnostic_settings
        ),
    ]
    return fit_rows(results, as_of_date, fitted_at)
