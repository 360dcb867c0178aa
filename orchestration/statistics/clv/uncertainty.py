"""How uncertain a CLV fit is: standard errors and the parameter draws CLV intervals use.

MAP: a Laplace approximation, a multivariate normal on the log parameters whose covariance is
the inverse negative Hessian of the log-likelihood at the estimate (with flat priors and no
Jacobian the model's log density is the log-likelihood). Standard errors follow by the delta
method. The Hessian comes from central differences of PyMC's analytic gradient: compiling
pytensor's symbolic Hessian costs seconds to minutes, a few gradient calls milliseconds.

MCMC: posterior means, standard deviations and evenly thinned draws.

Draws carry parameter uncertainty into the intervals only for a trustworthy fit. A degenerate
fit's Laplace covariance is meaningless (a parameter on its bound, a flat ridge) and its draws,
exp of normals with standard deviations in the hundreds, overflow to infinity (or to 0); such a fit gets
its point estimate repeated instead, so intervals carry the purchase and spend randomness only
and every value written is finite (see `parameter_draws`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pymc as pm

from orchestration.statistics.clv.settings import HESSIAN_STEP, MCMC_MAX_RHAT, pymc_name


@dataclass(frozen=True)
class Curvature:
    """The log-likelihood's shape at a MAP estimate, on the log-parameter scale.

    `covariance` is None where the Hessian is singular or not negative definite (no curvature
    to speak of); then every standard error is NaN and `newton_decrement` is infinite.
    """

    names: tuple[str, ...]
    centre: np.ndarray
    covariance: np.ndarray | None
    standard_errors: dict[str, float]
    log_likelihood: float
    newton_decrement: float

    @property
    def usable(self) -> bool:
        return self.covariance is not None


def point_in_value_space(model: pm.Model, estimates: dict[str, float]) -> dict[str, np.ndarray]:
    """The estimates (pymc names) as values of the model's free variables (log for HalfFlat)."""
    point = {}
    for variable in model.value_vars:
        name = variable.name.removesuffix("_log__")
        value = estimates[name]
        point[variable.name] = np.asarray(np.log(value) if variable.name.endswith("_log__") else value)
    return point


def log_likelihood_at(model: pm.Model, estimates: dict[str, float]) -> float:
    """The model's log density without Jacobian at the estimates: the log-likelihood under flat priors."""
    return float(model.compile_logp(jacobian=False)(point_in_value_space(model, estimates)))


def laplace(model: pm.Model, point: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, float]:
    """Covariance of the free variables (inverse negative Hessian), the gradient, the log-likelihood.

    At the maximum the Hessian in log space needs no gradient term. Raises LinAlgError when the
    Hessian cannot be inverted.
    """
    names = [variable.name for variable in model.value_vars]
    # With respect to the random variables, in the order of the value variables, as
    # pymc.find_MAP asks for it: the model then serves find_MAP's compiled gradient
    # (likelihood.reuse_compiled) instead of compiling it again.
    variables = [model.values_to_rvs[variable] for variable in model.value_vars]
    gradient_function = model.compile_dlogp(variables, jacobian=False)
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


def map_curvature(model: pm.Model, estimates: dict[str, float]) -> Curvature:
    """Standard errors (delta method), log-likelihood and Newton decrement of a MAP estimate.

    `estimates` are keyed by pymc name; so are the standard errors returned. The Newton
    decrement sqrt(g' C g) is the distance to the optimum in standard errors.
    """
    point = point_in_value_space(model, estimates)
    names = tuple(variable.name.removesuffix("_log__") for variable in model.value_vars)
    centre = np.array([float(point[variable.name]) for variable in model.value_vars])
    try:
        covariance, gradient, log_likelihood = laplace(model, point)
        eigenvalues = np.linalg.eigvalsh(covariance)
        newton_decrement = float(np.sqrt(max(gradient @ covariance @ gradient, 0.0)))
        usable = bool(np.all(np.isfinite(covariance)) and np.all(eigenvalues > 0))
    except np.linalg.LinAlgError:
        covariance, log_likelihood, newton_decrement, usable = None, float("nan"), float("inf"), False
    if not usable:
        return Curvature(
            names, centre, None, dict.fromkeys(names, math.nan), log_likelihood, newton_decrement
        )
    log_errors = np.sqrt(np.diag(covariance))
    errors = {name: float(estimates[name] * log_errors[i]) for i, name in enumerate(names)}
    return Curvature(names, centre, covariance, errors, log_likelihood, newton_decrement)


def laplace_draws(
    curvature: Curvature, draws_count: int, rng: np.random.Generator, trusted: bool
) -> list[dict[str, float]]:
    """`draws_count` parameter draws (pymc names) from the Laplace approximation of a trusted fit
    with curvature; the point estimate repeated otherwise, or when a draw would overflow to
    infinity or underflow to 0."""
    point = [dict(zip(curvature.names, map(float, np.exp(curvature.centre)), strict=True))] * draws_count
    if not (trusted and curvature.usable):
        return [dict(draw) for draw in point]
    samples = rng.multivariate_normal(curvature.centre, curvature.covariance, size=draws_count, method="eigh")
    with np.errstate(over="ignore", under="ignore"):
        values = np.exp(samples)
    # Every parameter is positive: exp overflowing to inf or underflowing to 0 is no draw.
    if not np.all(np.isfinite(values) & (values > 0)):
        return [dict(draw) for draw in point]
    return [dict(zip(curvature.names, map(float, row), strict=True)) for row in values]


@dataclass(frozen=True)
class PosteriorSummary:
    """An MCMC fit summarised: means, sds, thinned draws (table names), fit quality."""

    estimates: dict[str, float]
    standard_errors: dict[str, float]
    draws: list[dict[str, float]]
    log_likelihood: float
    max_rhat: float

    @property
    def converged(self) -> bool:
        return self.max_rhat < MCMC_MAX_RHAT


def posterior_summary(model: pm.Model, idata, names: tuple[str, ...], draws_count: int) -> PosteriorSummary:
    """Posterior means, sds, `draws_count` evenly thinned draws, log-likelihood at the mean, max R-hat."""
    import arviz as az

    posterior = idata.posterior
    pymc_names = [pymc_name(name) for name in names]
    flat = {name: posterior[pymc].values.reshape(-1) for name, pymc in zip(names, pymc_names, strict=True)}
    estimates = {name: float(values.mean()) for name, values in flat.items()}
    errors = {name: float(values.std(ddof=1)) for name, values in flat.items()}
    picks = np.linspace(0, len(next(iter(flat.values()))) - 1, draws_count).round().astype(int)
    draws = [{name: float(flat[name][i]) for name in names} for i in picks]
    rhat = az.rhat(idata, var_names=pymc_names)
    max_rhat = float(max(float(rhat[name].values) for name in pymc_names))
    log_likelihood = log_likelihood_at(model, {pymc_name(k): v for k, v in estimates.items()})
    return PosteriorSummary(estimates, errors, draws, log_likelihood, max_rhat)
