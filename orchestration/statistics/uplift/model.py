"""Who is persuadable: uplift models learned from past randomized assignments.

Per treatment code with enough assignments (complete response windows only):
- split: every assignment of a customer goes to the held-out (test) set when the first 32 bits
  of md5("<salt>|<customer_key>") as a fraction of 2^32 fall below test_share, so a customer
  never sits on both sides and the split does not change between runs;
- learner (scikit-uplift's): 'two_model' (sklift TwoModels, the T-learner): one conversion
  classifier per arm, uplift = P(convert | treated, x) - P(convert | control, x); or
  'class_transformation' (sklift ClassTransformation): one classifier of Z = 1 when (treated and
  converted) or (control and not converted), on arms reweighted to equal mass, uplift =
  2 P(Z = 1 | x) - 1 (Jaskowski and Jaroszewicz 2012);
- base classifier: regularised logistic regression on standardised, log-compressed features
  (default: on a few thousand assignments it ranked the planted effects better than gradient
  boosting, and its scores move smoothly with the features), or histogram gradient boosting;
- weights: assignments of one treatment may come from sources with different treated shares
  (own holdouts of 5-10 %, external campaigns of 30 %); each row is weighted by the inverse of
  its source's share of its arm so both arms have the same mix of sources. A source without
  both arms says nothing causal and is left out;
- scores: the model fitted on the training split (the very model the evaluation describes)
  scores every customer as of the as-of date. Expected incremental margin = uplift in
  conversion probability x expected margin per conversion, where the margin per conversion is
  the customer's own average order margin before the as-of date, shrunk towards the
  treatment's mean window margin per converted treated training assignment:
  (n x own + k x population) / (n + k), n = the customer's orders, k = margin_prior_orders.

Deterministic: inputs sorted by key, lbfgs / fixed random_state, hash split, stable ranks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklift.models import ClassTransformation, TwoModels
from threadpoolctl import threadpool_limits

from orchestration.statistics.uplift.evaluation import holdout_metrics

LEARNERS = ("two_model", "class_transformation")
BASE_ESTIMATORS = ("logistic", "gradient_boosting")
STATUS_FITTED = "fitted"
STATUS_TOO_FEW = "too_few_assignments"
OUTCOME = "conversion"

# Columns of int_measurement__uplift_features that are not features.
ID_COLUMNS = (
    "observation_key",
    "observation_role",
    "as_of_date",
    "customer_key",
    "treatment_code",
    "assignment_source",
    "is_treated",
    "converted",
    "margin",
)
CATEGORICAL_COLUMNS = ("needs_segment_id", "lifecycle_stage")
# Logistic regression's inverse regularisation strength on standardised features: a few
# thousand noisy 0/1 outcomes per arm need shrinkage, or the difference of the two arms' fits
# is mostly noise.
LOGISTIC_C = 0.3
GRADIENT_BOOSTING = {
    "max_iter": 100,
    "learning_rate": 0.05,
    "max_depth": 3,
    "min_samples_leaf": 100,
    "l2_regularization": 1.0,
}
MIN_TARGETED_PER_ARM = 30  # the policy check needs this many held-out customers in each arm


@dataclass(frozen=True)
class UpliftSettings:
    """How a run fits; every field comes from a dbt var (dbt_project.yml, uplift block)."""

    learner: str = "two_model"
    base_estimator: str = "logistic"
    test_share: float = 0.3
    split_salt: str = "ciw-uplift-v1"
    min_group_size: int = 200
    random_state: int = 20240601
    validation_alpha: float = 0.05
    margin_prior_orders: float = 2.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> UpliftSettings:
        """Settings from dbt config values (rendered as text); missing or empty keys keep defaults.

        The dbt models pass {"<setting>": dbt.config.get("uplift_<setting>")} written out key by
        key: dbt gives a Python model only the config keys it reads with literal arguments.
        """
        kinds = {
            "learner": str,
            "base_estimator": str,
            "test_share": float,
            "split_salt": str,
            "min_group_size": int,
            "random_state": int,
            "validation_alpha": float,
            "margin_prior_orders": float,
        }
        parsed: dict[str, object] = {}
        for key, kind in kinds.items():
            raw = values.get(key)
            if raw is None or str(raw).strip().lower() in ("", "none", "null"):
                continue
            parsed[key] = int(float(raw)) if kind is int else kind(raw)
        settings = cls(**parsed)
        if settings.learner not in LEARNERS:
            raise ValueError(f"uplift_learner must be one of {LEARNERS}, got {settings.learner!r}")
        if settings.base_estimator not in BASE_ESTIMATORS:
            raise ValueError(
                f"uplift_base_estimator must be one of {BASE_ESTIMATORS}, got {settings.base_estimator!r}"
            )
        if not 0.0 < settings.test_share < 1.0:
            raise ValueError(f"uplift_test_share must be in (0, 1), got {settings.test_share}")
        if not 0.0 < settings.validation_alpha < 1.0:
            raise ValueError(f"uplift_validation_alpha must be in (0, 1), got {settings.validation_alpha}")
        if settings.min_group_size < 1 or settings.margin_prior_orders < 0:
            raise ValueError("uplift_min_group_size must be positive and uplift_margin_prior_orders >= 0")
        return settings


# --- split ----------------------------------------------------------------------------------


def hash_fraction(keys: Sequence[str], salt: str) -> np.ndarray:
    """First 32 bits of md5("<salt>|<key>") as a fraction in [0, 1): stable across runs and engines."""
    return np.array(
        [int(hashlib.md5(f"{salt}|{key}".encode()).hexdigest()[:8], 16) / 2**32 for key in keys],
        dtype=float,
    )


def is_test_customer(keys: Sequence[str], salt: str, test_share: float) -> np.ndarray:
    return hash_fraction(keys, salt) < test_share


# --- features -------------------------------------------------------------------------------


def _signed_log(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


def _is_bounded(name: str) -> bool:
    """Shares and flags are already on [0, 1]; counts, amounts and days get log-compressed."""
    return "share" in name or name.startswith("is_")


@dataclass(frozen=True)
class Design:
    """The model matrix: numeric features (transformed) and one-hot levels seen in training.

    Learned from the training rows of one treatment and applied unchanged to held-out and
    scored rows, so a level unseen in training (a new needs segment) is all zeros.
    """

    numeric: tuple[str, ...]
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def learn(cls, frame: pd.DataFrame) -> Design:
        numeric = tuple(
            column
            for column in frame.columns
            if column not in ID_COLUMNS and column not in CATEGORICAL_COLUMNS
        )
        levels = {
            column: tuple(sorted(frame[column].dropna().astype(str).unique()))
            for column in CATEGORICAL_COLUMNS
            if column in frame.columns
        }
        return cls(numeric, levels)

    @property
    def names(self) -> list[str]:
        derived = ["has_purchased", "is_repeat_buyer", "mean_days_between_orders", "recency_ratio"]
        onehot = [f"{column}={level}" for column, values in self.levels.items() for level in values]
        return [*self.numeric, *derived, *onehot]

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        columns = []
        for name in self.numeric:
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            values = np.nan_to_num(values if _is_bounded(name) else _signed_log(values), nan=0.0)
            columns.append(values)
        orders = np.nan_to_num(frame["orders_count"].to_numpy(dtype=float))
        first = frame["days_since_first_order"].to_numpy(dtype=float)
        last = frame["days_since_last_order"].to_numpy(dtype=float)
        repeat = orders >= 2
        with np.errstate(all="ignore"):
            gap = np.where(repeat, (first - last) / np.maximum(orders - 1, 1), np.nan)
            # How overdue the customer is on their own rhythm: the signal of "still alive".
            ratio = np.where(repeat, last / np.maximum(gap, 1.0), np.nan)
        columns += [
            (orders > 0).astype(float),
            repeat.astype(float),
            np.nan_to_num(np.log1p(np.clip(gap, 0, None)), nan=0.0),
            np.nan_to_num(np.log1p(np.clip(ratio, 0, 100)), nan=0.0),
        ]
        for column, values in self.levels.items():
            text = frame[column].astype(str).to_numpy()
            columns += [(text == level).astype(float) for level in values]
        return np.column_stack(columns) if columns else np.empty((len(frame), 0))


# --- learners -------------------------------------------------------------------------------
#
# The learners are scikit-uplift's: TwoModels (method 'vanilla', the T-learner) and
# ClassTransformation. Kept here, and why:
# - the balancing weights: neither learner reweights, so they go to the base classifier's fit
#   through sklift's fit-params arguments (per arm for TwoModels, which fits each arm on its rows
#   in their original order);
# - _SingleClass: LogisticRegression and HistGradientBoosting refuse an outcome with one class,
#   which an arm with no (or only) conversions has; TwoModels gets this constant in its place.
#   ClassTransformation never needs it: with both arms present, Z always has both classes;
# - the outcome is conversion only (sklift's ClassTransformation needs a binary outcome): the
#   incremental margin is the conversion uplift times a margin per conversion, not a learner
#   of the continuous margin.


class _SingleClass(BaseEstimator, ClassifierMixin):
    """Stands in for a classifier when an arm has a single outcome class (all or none converted)."""

    def fit(self, features: np.ndarray, outcome: np.ndarray, **_: object) -> _SingleClass:
        self.probability_ = float(np.mean(outcome)) if len(outcome) else 0.0
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        p = np.full(len(features), self.probability_)
        return np.column_stack([1 - p, p])


def _classifier(settings: UpliftSettings, outcome: np.ndarray | None = None):
    """An unfitted base classifier and the name of its sample-weight fit parameter."""
    if outcome is not None and np.unique(outcome).size < 2:
        return _SingleClass(), "sample_weight"
    if settings.base_estimator == "gradient_boosting":
        return HistGradientBoostingClassifier(random_state=settings.random_state, **GRADIENT_BOOSTING), (
            "sample_weight"
        )
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=LOGISTIC_C, max_iter=5000, random_state=settings.random_state)
    )
    return model, "logisticregression__sample_weight"


@dataclass
class FittedLearner:
    """A fitted sklift learner: predicts (P(convert | treated), P(convert | control), uplift)."""

    learner: str
    model: TwoModels | ClassTransformation

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(features) == 0:
            empty = np.empty(0)
            return empty, empty, empty
        uplift = np.asarray(self.model.predict(features), dtype=float)
        if isinstance(self.model, TwoModels):
            return self.model.trmnt_preds_, self.model.ctrl_preds_, uplift
        nothing = np.full(len(features), np.nan)
        return nothing, nothing, uplift


def balancing_weights(treated: np.ndarray, source: np.ndarray) -> np.ndarray:
    """0.5 / e_s for treated and 0.5 / (1 - e_s) for control rows, e_s = the source's treated share.

    Each source then carries the same weight in both arms, and the arms equal total weight;
    rows of a source with a single arm get weight 0.
    """
    treated = np.asarray(treated, dtype=bool)
    source = np.asarray(source).astype(str)
    weight = np.zeros(treated.size)
    for value in np.unique(source):
        rows = source == value
        share = treated[rows].mean()
        if 0.0 < share < 1.0:
            weight[rows] = np.where(treated[rows], 0.5 / share, 0.5 / (1.0 - share))
    return weight


def fit_learner(
    features: np.ndarray,
    converted: np.ndarray,
    treated: np.ndarray,
    weight: np.ndarray,
    settings: UpliftSettings,
) -> FittedLearner:
    converted = np.asarray(converted, dtype=int)
    treated = np.asarray(treated, dtype=int)
    arm = treated.astype(bool)
    # One BLAS thread: identical results on every machine, and dbt's threads do not oversubscribe.
    with threadpool_limits(limits=1):
        if settings.learner == "two_model":
            (on_treated, treated_weight), (on_control, control_weight) = (
                _classifier(settings, converted[rows]) for rows in (arm, ~arm)
            )
            model = TwoModels(estimator_trmnt=on_treated, estimator_ctrl=on_control, method="vanilla")
            model.fit(
                features,
                converted,
                treated,
                estimator_trmnt_fit_params={treated_weight: weight[arm]},
                estimator_ctrl_fit_params={control_weight: weight[~arm]},
            )
        else:
            estimator, weight_name = _classifier(settings)
            model = ClassTransformation(estimator)
            model.fit(features, converted, treated, estimator_fit_params={weight_name: weight})
    return FittedLearner(settings.learner, model)


# --- one treatment --------------------------------------------------------------------------


def model_id(learner: str, treatment_code: str, as_of: date) -> str:
    """Unique per treatment (activation keys candidates by customer and rule or model id)."""
    return f"uplift_{learner}_{treatment_code.lower()}_{as_of:%Y%m%d}"


@dataclass
class TreatmentFit:
    treatment_code: str
    evaluation: dict[str, object]
    design: Design | None = None
    learner: FittedLearner | None = None
    margin_per_conversion: float | None = None


def _arm_counts(treated: np.ndarray) -> tuple[int, int, int]:
    treated = np.asarray(treated, dtype=bool)
    return int(treated.size), int(treated.sum()), int((~treated).sum())


def split_assignments(
    rows: pd.DataFrame, settings: UpliftSettings
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Training rows, held-out rows (by customer hash) and the training rows' balancing weights.

    Rows of a source with a single arm (weight 0) are in neither. The HTML report redraws the
    held-out Qini curve with the same split (orchestration/report/qini.py).
    """
    test = is_test_customer(
        rows["customer_key"].astype(str).tolist(), settings.split_salt, settings.test_share
    )
    weight = balancing_weights(rows["is_treated"].to_numpy(dtype=bool), rows["assignment_source"].to_numpy())
    usable = weight > 0
    return rows[~test & usable], rows[test & usable], weight[~test & usable]


def fit_treatment(
    rows: pd.DataFrame, treatment_code: str, as_of: date, settings: UpliftSettings
) -> TreatmentFit:
    """Split, fit, evaluate one treatment's assignments (rows sorted by observation_key)."""
    train, held_out, train_weight = split_assignments(rows, settings)
    n_train, n_train_treated, n_train_control = _arm_counts(train["is_treated"].to_numpy(dtype=bool))
    n_test, n_test_treated, n_test_control = _arm_counts(held_out["is_treated"].to_numpy(dtype=bool))
    evaluation: dict[str, object] = {
        "treatment_code": treatment_code,
        "model_id": model_id(settings.learner, treatment_code, as_of),
        "as_of_date": as_of,
        "learner": settings.learner,
        "base_estimator": settings.base_estimator,
        "outcome": OUTCOME,
        "status": STATUS_TOO_FEW,
        "n_train": n_train,
        "n_train_treated": n_train_treated,
        "n_train_control": n_train_control,
        "n_test": n_test,
        "n_test_treated": n_test_treated,
        "n_test_control": n_test_control,
        "test_share": settings.test_share,
        "min_group_size": settings.min_group_size,
        "validation_alpha": settings.validation_alpha,
        "random_state": settings.random_state,
        "is_validated": False,
    }
    if min(n_train_treated, n_train_control) < settings.min_group_size:
        return TreatmentFit(treatment_code, evaluation)

    design = Design.learn(train)
    learner = fit_learner(
        design.matrix(train),
        train["converted"].to_numpy(dtype=bool),
        train["is_treated"].to_numpy(dtype=bool),
        train_weight,
        settings,
    )
    _, _, uplift = learner.predict(design.matrix(held_out))
    evaluation.update(
        holdout_metrics(
            held_out["converted"].to_numpy(dtype=bool),
            held_out["is_treated"].to_numpy(dtype=bool),
            uplift,
            settings.validation_alpha,
            MIN_TARGETED_PER_ARM,
        )
    )
    margin = population_margin_per_conversion(train)
    evaluation.update(
        {
            "status": STATUS_FITTED,
            "margin_per_conversion": margin,
            "feature_count": len(design.names),
            "features": ", ".join(design.names),
        }
    )
    return TreatmentFit(treatment_code, evaluation, design, learner, margin)


def population_margin_per_conversion(train: pd.DataFrame) -> float:
    """Mean response-window margin of converted treated training assignments (all converted if none)."""
    converted = train["converted"].to_numpy(dtype=bool)
    margin = pd.to_numeric(train["margin"], errors="coerce").to_numpy(dtype=float)
    for rows in (converted & train["is_treated"].to_numpy(dtype=bool), converted):
        values = margin[rows]
        values = values[np.isfinite(values)]
        if values.size:
            return float(values.mean())
    return 0.0


def expected_margin_per_conversion(
    scoring: pd.DataFrame, population: float, prior_orders: float
) -> np.ndarray:
    """Each customer's average order margin shrunk towards the population margin per conversion."""
    orders = np.nan_to_num(pd.to_numeric(scoring["orders_count"], errors="coerce").to_numpy(dtype=float))
    margin = np.nan_to_num(pd.to_numeric(scoring["gross_margin"], errors="coerce").to_numpy(dtype=float))
    denominator = orders + prior_orders
    with np.errstate(all="ignore"):
        shrunk = (margin + prior_orders * population) / denominator
    return np.where(denominator > 0, shrunk, population)


def score_treatment(fit: TreatmentFit, scoring: pd.DataFrame, settings: UpliftSettings) -> pd.DataFrame:
    """One row per scored customer (scoring sorted by customer_key) for a fitted treatment."""
    treated, control, uplift = fit.learner.predict(fit.design.matrix(scoring))
    margin = expected_margin_per_conversion(scoring, fit.margin_per_conversion, settings.margin_prior_orders)
    order = np.argsort(-uplift, kind="stable")
    rank = np.empty(len(uplift), dtype=np.int64)
    rank[order] = np.arange(1, len(uplift) + 1)
    return pd.DataFrame(
        {
            "customer_key": scoring["customer_key"].to_numpy(),
            "treatment_code": fit.treatment_code,
            "model_id": fit.evaluation["model_id"],
            "as_of_date": fit.evaluation["as_of_date"],
            "learner": settings.learner,
            "p_conversion_treated": treated,
            "p_conversion_control": control,
            "uplift_conversion": uplift,
            "expected_margin_per_conversion": margin,
            "expected_incremental_margin": uplift * margin,
            "uplift_rank": rank,
            "uplift_decile": np.minimum(10, (rank - 1) * 10 // max(len(uplift), 1) + 1),
            "is_validated": bool(fit.evaluation["is_validated"]),
        }
    )


# --- a run ----------------------------------------------------------------------------------

SCORES_SCHEMA: dict[str, str] = {
    "customer_key": "varchar",
    "treatment_code": "varchar",
    "model_id": "varchar",
    "as_of_date": "date",
    "learner": "varchar",
    "p_conversion_treated": "double",
    "p_conversion_control": "double",
    "uplift_conversion": "double",
    "expected_margin_per_conversion": "double",
    "expected_incremental_margin": "double",
    "uplift_rank": "bigint",
    "uplift_decile": "integer",
    "is_validated": "boolean",
}

EVALUATION_SCHEMA: dict[str, str] = {
    "treatment_code": "varchar",
    "model_id": "varchar",
    "as_of_date": "date",
    "learner": "varchar",
    "base_estimator": "varchar",
    "outcome": "varchar",
    "status": "varchar",
    "n_train": "integer",
    "n_train_treated": "integer",
    "n_train_control": "integer",
    "n_test": "integer",
    "n_test_treated": "integer",
    "n_test_control": "integer",
    "observed_uplift_test": "double",
    "predicted_uplift_test": "double",
    "qini_coefficient": "double",
    "uplift_auc": "double",
    "uplift_at_10": "double",
    "uplift_at_30": "double",
    "targeted_share_test": "double",
    "targeted_observed_uplift": "double",
    "targeted_uplift_se": "double",
    "targeted_uplift_p_value": "double",
    "is_validated": "boolean",
    "margin_per_conversion": "double",
    "feature_count": "integer",
    "features": "varchar",
    "test_share": "double",
    "min_group_size": "integer",
    "validation_alpha": "double",
    "random_state": "bigint",
}


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key, kind="stable").reset_index(drop=True)


def fit_all(training: pd.DataFrame, as_of: date, settings: UpliftSettings) -> list[TreatmentFit]:
    """One fit per treatment code of the training rows, in code order."""
    training = _sorted(training, "observation_key")
    return [
        fit_treatment(rows.reset_index(drop=True), str(code), as_of, settings)
        for code, rows in training.groupby("treatment_code", sort=True)
    ]


def evaluation_frame(fits: list[TreatmentFit]) -> pd.DataFrame:
    rows = [{column: fit.evaluation.get(column) for column in EVALUATION_SCHEMA} for fit in fits]
    return pd.DataFrame(rows, columns=list(EVALUATION_SCHEMA))


def scores_frame(fits: list[TreatmentFit], scoring: pd.DataFrame, settings: UpliftSettings) -> pd.DataFrame:
    scoring = _sorted(scoring, "customer_key")
    parts = [score_treatment(fit, scoring, settings) for fit in fits if fit.learner is not None]
    if not parts:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in SCORES_SCHEMA})
    return pd.concat(parts, ignore_index=True)[list(SCORES_SCHEMA)]


def as_of_of(frame: pd.DataFrame) -> date | None:
    """The run's as-of date (one value in the features), None without rows."""
    if frame.empty:
        return None
    value = pd.Timestamp(frame["as_of_date"].iloc[0])
    return None if pd.isna(value) else value.date()


def sql_projection(schema: Mapping[str, str]) -> str:
    """A DuckDB projection that gives the Python model's output its column types, empty or not."""
    return ", ".join(f"cast({column} as {sql_type}) as {column}" for column, sql_type in schema.items())
