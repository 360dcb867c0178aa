"""How good an uplift model is on held-out randomized assignments.

An uplift model cannot be checked customer by customer (nobody is both treated and not), only
by how treated and control customers it ranks high differ from those it ranks low. These are
the usual figures (scikit-uplift), computed on the held-out assignments only:
- Qini coefficient: area between the model's Qini curve and the random-targeting line, divided
  by the same area for the best possible ranking (sklift qini_auc_score); 0 = no better than
  random, 1 = perfect, negative = worse than random.
- AUUC: the same normalisation of the area under the uplift curve (sklift uplift_auc_score).
- uplift@k: conversion rate of the treated minus that of the controls among the top k share of
  customers by predicted uplift (sklift uplift_at_k, strategy 'overall').

None of these says whether the scores are worth acting on, and with a few thousand assignments
all of them are noisy. So a policy check decides whether activation may use a model: among the
held-out customers the model calls persuadable (predicted uplift above 0), treated customers
must convert more than controls, one-sided z test of two proportions at level alpha. A
treatment that causes nothing passes it at the nominal rate alpha only.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.stats import norm

TOP_SHARES: tuple[float, ...] = (0.1, 0.3)


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def difference_in_means(outcome: np.ndarray, treated: np.ndarray) -> tuple[float | None, float | None]:
    """Treated minus control mean of a 0/1 outcome, and its unpooled standard error.

    None when an arm is empty (no estimate) or has a single customer (no variance).
    """
    outcome, treated = np.asarray(outcome, dtype=float), np.asarray(treated, dtype=bool)
    y1, y0 = outcome[treated], outcome[~treated]
    if y1.size == 0 or y0.size == 0:
        return None, None
    diff = float(y1.mean() - y0.mean())
    if y1.size < 2 or y0.size < 2:
        return diff, None
    p1, p0 = y1.mean(), y0.mean()
    return diff, float(math.sqrt(p1 * (1 - p1) / y1.size + p0 * (1 - p0) / y0.size))


def one_sided_p_value(diff: float | None, se: float | None) -> float | None:
    """P(Z >= diff / se) under no effect; a zero standard error with a positive difference gives 0."""
    if diff is None or se is None:
        return None
    if se == 0:
        return 0.0 if diff > 0 else 1.0
    return float(norm.sf(diff / se))


def _sklift(metric, *args, **kwargs) -> float | None:
    """A scikit-uplift metric, or None when the sample cannot define it (an empty arm, no conversions)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with np.errstate(all="ignore"):
                return _finite(metric(*args, **kwargs))
        except (ValueError, ZeroDivisionError, IndexError):
            return None


def holdout_metrics(
    converted: np.ndarray,
    treated: np.ndarray,
    uplift: np.ndarray,
    alpha: float,
    min_targeted_per_arm: int,
) -> dict[str, float | int | bool | None]:
    """The evaluation figures of one treatment's model on its held-out assignments."""
    from sklift.metrics import qini_auc_score, uplift_at_k, uplift_auc_score

    y = np.asarray(converted, dtype=int)
    t = np.asarray(treated, dtype=int)
    u = np.asarray(uplift, dtype=float)
    both_arms = y.size > 0 and 0 < t.sum() < t.size
    observed, _ = difference_in_means(y, t.astype(bool))
    result: dict[str, float | int | bool | None] = {
        "observed_uplift_test": observed,
        "predicted_uplift_test": _finite(u.mean()) if u.size else None,
        "qini_coefficient": _sklift(qini_auc_score, y, u, t) if both_arms else None,
        "uplift_auc": _sklift(uplift_auc_score, y, u, t) if both_arms else None,
    }
    for share in TOP_SHARES:
        name = f"uplift_at_{round(share * 100)}"
        result[name] = _sklift(uplift_at_k, y, u, t, strategy="overall", k=share) if both_arms else None
    targeted = u > 0
    diff, se = difference_in_means(y[targeted], t[targeted].astype(bool))
    p_value = one_sided_p_value(diff, se)
    enough = min(int(t[targeted].sum()), int((1 - t[targeted]).sum())) >= min_targeted_per_arm
    result.update(
        {
            "targeted_share_test": _finite(targeted.mean()) if u.size else None,
            "targeted_observed_uplift": diff,
            "targeted_uplift_se": se,
            "targeted_uplift_p_value": p_value,
            "is_validated": bool(enough and p_value is not None and p_value < alpha),
        }
    )
    return result
