"""The CLV fit diagnostics (orchestration/statistics/clv/diagnostics.py): a healthy fit is ok, a fit that
walked to a bound or whose standard errors dwarf its estimates is degenerate, one the optimiser
did not finish is failed, and the line the build summary prints names the parameters.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from orchestration.statistics.clv.diagnostics import (
    FIT_DEGENERATE,
    FIT_FAILED,
    FIT_OK,
    DiagnosticSettings,
    diagnose,
    summary_line,
)
from orchestration.statistics.clv.fit import fit_purchase_model, fit_table
from orchestration.statistics.clv.settings import FitSettings

# BG/NBD on the CDNOW 1/10 sample (Fader, Hardie & Lee 2005), weeks; standard errors of the
# size the Laplace approximation gives there (a few to 20% of the estimates).
CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_SE = {"r": 0.013, "alpha": 0.339, "a": 0.185, "b": 0.705}


def test_a_healthy_fit_is_ok() -> None:
    diagnosis = diagnose(CDNOW, CDNOW_SE)
    assert diagnosis.status == FIT_OK
    assert diagnosis.is_ok
    assert diagnosis.findings == ()
    assert diagnosis.text == ""
    assert summary_line("bg_nbd", diagnosis.status, diagnosis.text) is None


def test_a_parameter_at_its_bound_is_degenerate() -> None:
    estimates = {**CDNOW, "a": 2e-4}
    errors = {**CDNOW_SE, "a": 1e-4}  # a modest relative SE: the bound alone decides
    diagnosis = diagnose(estimates, errors)
    print(diagnosis.text)
    assert diagnosis.status == FIT_DEGENERATE
    assert [(f.parameter, f.reason) for f in diagnosis.findings] == [("a", "at_lower_bound")]
    assert "a = 2.00e-04 at its lower bound 0" in diagnosis.text
    # Running off to infinity is the other end.
    upper = diagnose({**CDNOW, "b": 3e7}, {**CDNOW_SE, "b": 1e6})
    assert upper.status == FIT_DEGENERATE
    assert [(f.parameter, f.reason) for f in upper.findings] == [("b", "at_upper_bound")]
    # The tolerance is a setting.
    assert diagnose(estimates, errors, settings=DiagnosticSettings(bound_tolerance=1e-5)).is_ok


def test_a_huge_standard_error_is_degenerate_and_named() -> None:
    # The fit the issue reports: a = 0.003 (SE 0.017), b = 18.6 (SE 100), reported as converged.
    estimates = {"r": 0.25, "alpha": 30.0, "a": 0.003, "b": 18.6}
    errors = {"r": 0.01, "alpha": 1.5, "a": 0.017, "b": 100.0}
    diagnosis = diagnose(estimates, errors)
    print(diagnosis.text)
    assert diagnosis.status == FIT_DEGENERATE
    assert not diagnosis.is_ok
    assert [(f.parameter, f.reason) for f in diagnosis.findings] == [
        ("a", "relative_se"),
        ("b", "relative_se"),
    ]
    assert "b SE 100 > estimate 18.6" in diagnosis.text
    assert "a SE 0.017 > estimate 0.003" in diagnosis.text
    line = summary_line("bg_nbd", diagnosis.status, diagnosis.text)
    print(line)
    assert line is not None and line.startswith("CLV fit DEGENERATE (bg_nbd): ")
    assert "b SE 100 > estimate 18.6" in line and "P(alive)" in line and "unreliable" in line
    # The threshold is a setting: at 5.5 x the estimate only a (5.7) is flagged, b (5.4) not.
    loose = diagnose(estimates, errors, settings=DiagnosticSettings(max_relative_se=5.5))
    assert [f.parameter for f in loose.findings] == ["a"]
    assert "a SE 0.017 > 5.5 x estimate 0.003" in loose.text


def test_a_nan_standard_error_is_degenerate() -> None:
    errors = dict.fromkeys(CDNOW, math.nan)  # the Hessian was not negative definite
    diagnosis = diagnose(CDNOW, errors)
    assert diagnosis.status == FIT_DEGENERATE
    assert {f.reason for f in diagnosis.findings} == {"non_finite_se"}
    assert sorted(f.parameter for f in diagnosis.findings) == sorted(CDNOW)
    assert "r SE is not finite (nan)" in diagnosis.text
    # A missing standard error counts the same.
    assert diagnose(CDNOW, {k: v for k, v in CDNOW_SE.items() if k != "b"}).status == FIT_DEGENERATE


def test_an_unfinished_optimiser_or_a_nan_estimate_is_failed() -> None:
    diagnosis = diagnose(CDNOW, CDNOW_SE, optimiser_converged=False, optimiser_note="Newton step 3.2 SE")
    assert diagnosis.status == FIT_FAILED
    assert diagnosis.text == "optimiser did not converge (Newton step 3.2 SE)"
    # Failed wins over degenerate, and comes first in the text.
    both = diagnose({**CDNOW, "r": math.nan}, {**CDNOW_SE, "b": 50.0})
    assert both.status == FIT_FAILED
    assert both.findings[0].reason == "non_finite_estimate"
    assert summary_line("gamma_gamma", both.status, both.text).startswith("CLV fit FAILED (gamma_gamma): ")


def test_settings_parse_rendered_config_values() -> None:
    settings = DiagnosticSettings.from_mapping({"max_relative_se": "2.5", "bound_tolerance": None})
    assert settings == DiagnosticSettings(max_relative_se=2.5)
    with pytest.raises(ValueError):
        DiagnosticSettings.from_mapping({"max_relative_se": "0"})


@pytest.mark.slow
def test_a_real_fit_on_data_without_dropout_is_flagged_degenerate() -> None:
    """BG/NBD fitted (pymc-marketing MAP, as clv_model_fit does) on buyers who never drop out:
    the dropout Beta runs to a -> 0 and b -> infinity, with standard errors larger than the
    estimates. The row must say so instead of 'converged', and its parameter draws must be its
    point estimate, finite (Laplace draws of such a fit overflow to infinity)."""
    rng = np.random.default_rng(5)
    rows = []
    for rate, end in zip(rng.gamma(0.8, 1 / 40, 1500), np.floor(rng.uniform(100, 400, 1500)), strict=True):
        t, days = 0.0, set()
        while (t := t + rng.exponential(1 / rate)) <= end:
            days.add(np.floor(t))
        ordered = sorted(days)
        first = ordered[0] if ordered else 0.0
        rows.append((max(len(ordered) - 1, 0), (ordered[-1] - first) if ordered else 0.0, end - first))
    summary = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    result = fit_purchase_model(summary, FitSettings(draws_count=10, seed=1))
    print(result.estimates, result.standard_errors, result.fit_status, result.fit_diagnostics)
    assert result.fit_status == FIT_DEGENERATE
    assert not result.converged
    assert "a = " in result.fit_diagnostics and "at its lower bound 0" in result.fit_diagnostics
    rows_out = fit_table([result], "2026-01-31", datetime(2026, 2, 1))
    assert rows_out.loc[0, "fit_status"] == FIT_DEGENERATE
    assert not rows_out.loc[0, "converged"]
    assert rows_out.loc[0, "fit_diagnostics"] == result.fit_diagnostics
    assert len(result.draws) == 10
    for draw in result.draws:
        assert draw == pytest.approx(result.estimates, rel=1e-12)
    stored = json.loads(rows_out.loc[0, "parameter_draws"])
    assert all(math.isfinite(value) for draw in stored for value in draw.values())
