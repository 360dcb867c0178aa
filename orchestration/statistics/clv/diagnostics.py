"""Does a CLV fit deserve trust? Diagnostics of the estimates and standard errors of one fit.

A maximum-likelihood fit can "converge" to a useless point: on data the model does not fit
(or cannot identify) an optimiser happily walks a parameter towards its bound (a BG/NBD `a`
near 0 means nobody ever drops out, so every P(alive) is about 1) or along a flat ridge (a `b`
of 18.6 with a standard error of 100 says nothing). This module turns what the fit reports
into a status and a sentence naming each parameter and reason:

- failed: the optimiser did not stop at a maximum (the Newton step left to the optimum, or the
  largest R-hat under MCMC, is above its tolerance) or an estimate is not a finite number;
- degenerate: the optimiser stopped, but at a point that does not identify the model: an
  estimate at (within `bound_tolerance` of) its lower bound 0 or above `parameter_max` (running
  off to infinity), a standard error that is not finite (the likelihood is flat or not concave
  there, so the Laplace approximation has no curvature), or a relative standard error
  (SE / estimate) above `max_relative_se`;
- ok: none of these.

Every parameter of BG/NBD, Pareto/NBD and Gamma-Gamma is positive: its only finite bound is 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

FIT_OK = "ok"
FIT_DEGENERATE = "degenerate"
FIT_FAILED = "failed"
FIT_STATUSES: tuple[str, ...] = (FIT_OK, FIT_DEGENERATE, FIT_FAILED)


@dataclass(frozen=True)
class DiagnosticSettings:
    """Thresholds of the diagnostics; each comes from a dbt var (dbt_project.yml, value block)."""

    max_relative_se: float = 1.0
    bound_tolerance: float = 1e-3
    parameter_max: float = 1e6

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> DiagnosticSettings:
        """Settings from dbt config values (numbers or their text); missing keys keep defaults."""
        parsed = {}
        for key in ("max_relative_se", "bound_tolerance", "parameter_max"):
            raw = values.get(key)
            if raw is None or str(raw).strip().lower() in ("", "none", "null"):
                continue
            parsed[key] = float(raw)
        settings = cls(**parsed)
        if not settings.max_relative_se > 0 or settings.bound_tolerance < 0 or not settings.parameter_max > 0:
            raise ValueError(
                "clv_max_relative_se and clv_parameter_max must be positive and "
                f"clv_bound_tolerance not negative, got {settings}"
            )
        return settings


@dataclass(frozen=True)
class Finding:
    """One reason a fit is not ok: the parameter it is about (None for the fit as a whole)."""

    status: str
    parameter: str | None
    reason: str  # at_lower_bound, at_upper_bound, non_finite_se, relative_se, non_finite_estimate, optimiser
    text: str


@dataclass(frozen=True)
class Diagnosis:
    """The verdict on one fit."""

    status: str
    findings: tuple[Finding, ...] = ()

    @property
    def is_ok(self) -> bool:
        return self.status == FIT_OK

    @property
    def text(self) -> str:
        """The findings in one line, worst first; empty for a good fit."""
        return "; ".join(finding.text for finding in self.findings)


def _number(value: float) -> str:
    """A short, readable number: 3 significant digits, no exponent for everyday sizes."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.3g}"


def _parameter_findings(
    name: str, estimate: float, error: float | None, settings: DiagnosticSettings
) -> list[Finding]:
    if estimate is None or not math.isfinite(estimate):
        return [Finding(FIT_FAILED, name, "non_finite_estimate", f"{name} estimate is {estimate}")]
    findings = []
    if estimate <= settings.bound_tolerance:
        findings.append(
            Finding(
                FIT_DEGENERATE,
                name,
                "at_lower_bound",
                f"{name} = {_number(estimate)} at its lower bound 0 (within {_number(settings.bound_tolerance)})",
            )
        )
    elif estimate >= settings.parameter_max:
        findings.append(
            Finding(
                FIT_DEGENERATE,
                name,
                "at_upper_bound",
                f"{name} = {_number(estimate)} runs off to infinity (above {_number(settings.parameter_max)})",
            )
        )
    if error is None or not math.isfinite(error):
        findings.append(Finding(FIT_DEGENERATE, name, "non_finite_se", f"{name} SE is not finite ({error})"))
    elif error > settings.max_relative_se * abs(estimate):
        comparison = (
            f"estimate {_number(estimate)}"
            if settings.max_relative_se == 1
            else f"{_number(settings.max_relative_se)} x estimate {_number(estimate)}"
        )
        findings.append(
            Finding(FIT_DEGENERATE, name, "relative_se", f"{name} SE {_number(error)} > {comparison}")
        )
    return findings


def diagnose(
    estimates: Mapping[str, float],
    standard_errors: Mapping[str, float],
    optimiser_converged: bool = True,
    optimiser_note: str | None = None,
    settings: DiagnosticSettings | None = None,
) -> Diagnosis:
    """The status of a fit from its estimates, their standard errors and the optimiser's verdict.

    `estimates` and `standard_errors` map parameter name to value (a missing or NaN standard
    error counts as not finite). `optimiser_converged` is False when the optimiser (or the
    sampler) did not reach the optimum (posterior); `optimiser_note` says how far it was.
    """
    settings = settings or DiagnosticSettings()
    findings: list[Finding] = []
    if not optimiser_converged:
        findings.append(
            Finding(
                FIT_FAILED, None, "optimiser", f"optimiser did not converge ({optimiser_note or 'no detail'})"
            )
        )
    for name, estimate in estimates.items():
        error = standard_errors.get(name)
        findings.extend(
            _parameter_findings(
                name,
                None if estimate is None else float(estimate),
                None if error is None else float(error),
                settings,
            )
        )
    if any(finding.status == FIT_FAILED for finding in findings):
        status = FIT_FAILED
    elif findings:
        status = FIT_DEGENERATE
    else:
        status = FIT_OK
    order = {FIT_FAILED: 0, FIT_DEGENERATE: 1}
    ranked = tuple(sorted(findings, key=lambda finding: order[finding.status]))
    return Diagnosis(status, ranked)


def summary_line(model_name: str, status: str, diagnostics: str | None) -> str | None:
    """What the build summary prints about a fit that is not ok (None for a good fit)."""
    if status == FIT_OK:
        return None
    consequence = (
        "P(alive), expected purchases and CLV are unreliable"
        if model_name != "gamma_gamma"
        else "expected order values and CLV are unreliable"
    )
    detail = f": {diagnostics}" if diagnostics else ""
    return f"CLV fit {str(status).upper()} ({model_name}){detail}; {consequence}"
