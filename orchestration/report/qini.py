"""Qini curves of the uplift models, redrawn on their held-out assignments.

measurement.uplift_model_evaluation stores each model's Qini coefficient, not its curve. The
curve is redrawn from what the build stored: the training observations
(intermediate.int_measurement__uplift_features) are split and fitted exactly as the model did
(orchestration/statistics/uplift/model.py, deterministic), and scikit-uplift's qini_curve is
drawn on the held-out part. A curve is shown only when its area reproduces the stored
coefficient, so the figure cannot silently disagree with the table (it would if the build used
settings the warehouse does not record, e.g. another uplift_split_salt).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.report.data import Warehouse, project_var
from orchestration.statistics.uplift.model import UpliftSettings, fit_all, split_assignments

EVALUATION = "measurement.uplift_model_evaluation"
FEATURES = "intermediate.int_measurement__uplift_features"
TOLERANCE = 1e-6


@dataclass(frozen=True)
class QiniCurves:
    """Curves (name, x: assignments targeted, y: Qini) and the treatments that could not be redrawn."""

    curves: list[tuple[str, np.ndarray, np.ndarray]]
    not_reproduced: list[str]
    fitted: int


def settings_of(evaluation: pd.Series) -> UpliftSettings:
    """The settings a stored evaluation row records, with the configured split salt (not recorded)."""
    return UpliftSettings.from_mapping(
        {
            "learner": evaluation["learner"],
            "base_estimator": evaluation["base_estimator"],
            "test_share": evaluation["test_share"],
            "split_salt": project_var("uplift_split_salt", UpliftSettings.split_salt),
            "min_group_size": evaluation["min_group_size"],
            "random_state": evaluation["random_state"],
            "validation_alpha": evaluation["validation_alpha"],
        }
    )


def qini_curves(warehouse: Warehouse) -> QiniCurves | None:
    """The held-out Qini curve of every fitted model; None when the tables are not built."""
    from sklift.metrics import qini_auc_score, qini_curve

    if not (warehouse.has(EVALUATION) and warehouse.has(FEATURES)):
        return None
    evaluation = warehouse.frame(
        f"select * from {EVALUATION} where status = 'fitted' order by treatment_code"
    )
    if evaluation.empty:
        return QiniCurves([], [], 0)
    training = warehouse.frame(f"select * from {FEATURES} where observation_role = 'training'")
    settings = settings_of(evaluation.iloc[0])
    as_of = pd.Timestamp(evaluation["as_of_date"].iloc[0]).date()
    with warnings.catch_warnings():
        # scikit-learn's deprecation notices from inside scikit-uplift are not the reader's business.
        warnings.simplefilter("ignore", FutureWarning)
        fits = {fit.treatment_code: fit for fit in fit_all(training, as_of, settings)}
    ordered = training.sort_values("observation_key", kind="stable")
    curves, not_reproduced = [], []
    for _, row in evaluation.iterrows():
        code = str(row["treatment_code"])
        fit = fits.get(code)
        if fit is None or fit.learner is None or fit.design is None:
            not_reproduced.append(code)
            continue
        rows = ordered[ordered["treatment_code"].astype(str) == code].reset_index(drop=True)
        _, held_out, _ = split_assignments(rows, settings)
        _, _, uplift = fit.learner.predict(fit.design.matrix(held_out))
        converted = held_out["converted"].to_numpy(dtype=int)
        treated = held_out["is_treated"].to_numpy(dtype=int)
        stored = row["qini_coefficient"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            redrawn = float(qini_auc_score(converted, uplift, treated))
            x, y = qini_curve(converted, uplift, treated)
        if pd.isna(stored) or abs(redrawn - float(stored)) > TOLERANCE:
            not_reproduced.append(code)
            continue
        curves.append((f"{code} (Qini {float(stored):.3f})", np.asarray(x, float), np.asarray(y, float)))
    return QiniCurves(curves, not_reproduced, len(evaluation))
