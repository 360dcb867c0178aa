"""Unit tests of the uplift helpers (orchestration/statistics/uplift) on small synthetic data.

The synthetic population plants a known individual effect: treatment adds `effect` to the
conversion probability of customers in needs segment 1 who bought recently, and nothing for the
others, so the right ranking is known. Run with -s to see the figures.
"""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pandas as pd
import pytest

from orchestration.statistics.uplift.evaluation import difference_in_means, holdout_metrics, one_sided_p_value
from orchestration.statistics.uplift.model import (
    SCORES_SCHEMA,
    STATUS_FITTED,
    STATUS_TOO_FEW,
    Design,
    UpliftSettings,
    balancing_weights,
    evaluation_frame,
    expected_margin_per_conversion,
    fit_all,
    hash_fraction,
    is_test_customer,
    model_id,
    scores_frame,
)

AS_OF = date(2026, 6, 30)


def synthetic(
    n: int, effect: float, seed: int, code: str = "OFFER", treated_share: float = 0.7
) -> pd.DataFrame:
    """A features frame like int_measurement__uplift_features (training rows) with a planted effect.

    Baseline conversion rises with the number of orders; the effect applies to segment '1'
    customers whose last order is under 200 days old (the persuadable, about 17 %), and is zero
    for everyone else.
    """
    rng = np.random.default_rng(seed)
    orders = rng.poisson(3.0, n)
    last = np.where(orders > 0, rng.uniform(1, 400, n), np.nan)
    first = np.where(orders > 0, last + rng.uniform(0, 700, n), np.nan)
    segment = rng.choice(["0", "1", "2", "3"], n, p=[0.1, 0.35, 0.3, 0.25])
    treated = rng.random(n) < treated_share
    persuadable = (segment == "1") & (np.nan_to_num(last, nan=999) < 200)
    base = 0.05 + 0.02 * np.minimum(orders, 5)
    true_effect = np.where(persuadable, effect, 0.0)
    converted = rng.random(n) < base + treated * true_effect
    frame = pd.DataFrame(
        {
            "observation_key": [f"training:{code}:{i:06d}" for i in range(n)],
            "observation_role": "training",
            "as_of_date": pd.Timestamp(AS_OF),
            "customer_key": [f"K{seed}-{i:06d}" for i in range(n)],
            "treatment_code": code,
            "assignment_source": "external",
            "is_treated": treated,
            "converted": converted,
            "margin": np.where(converted, rng.gamma(4.0, 6.0, n), 0.0),
            "needs_segment_id": segment,
            "lifecycle_stage": rng.choice(["active", "at_risk", "lapsed"], n),
            "orders_count": orders,
            "days_since_first_order": first,
            "days_since_last_order": last,
            "net_revenue": orders * rng.gamma(3.0, 20.0, n),
            "gross_margin": orders * rng.gamma(3.0, 8.0, n),
            "discount_share": np.where(orders > 0, rng.uniform(0, 0.3, n), np.nan),
            "is_loyalty_member": rng.random(n) < 0.2,
        }
    )
    frame["true_effect"] = true_effect
    return frame


def features_only(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["true_effect"])


def truth_qini(true_effect: np.ndarray, score: np.ndarray) -> float:
    """Area between the model's cumulative true effect and random, over the same for a perfect ranking."""
    order = np.argsort(-score, kind="stable")
    cumulative = np.cumsum(true_effect[order])
    perfect = np.cumsum(np.sort(true_effect)[::-1])
    random = np.arange(1, len(score) + 1) * true_effect.mean()
    return float((cumulative - random).sum() / (perfect - random).sum())


# --- split, weights, features ----------------------------------------------------------------


def test_hash_split_is_stable_salted_and_close_to_its_share() -> None:
    keys = [f"C{i}" for i in range(20_000)]
    expected = int(hashlib.md5(b"salt|C0").hexdigest()[:8], 16) / 2**32
    assert hash_fraction(["C0"], "salt")[0] == pytest.approx(expected)
    test = is_test_customer(keys, "salt", 0.3)
    assert (test == is_test_customer(list(reversed(keys)), "salt", 0.3)[::-1]).all()
    other = is_test_customer(keys, "other-salt", 0.3)
    share, overlap = test.mean(), (test & other).mean()
    print(f"\ntest share {share:.4f} (configured 0.3); both salts {overlap:.4f} (independent: 0.09)")
    # Binomial standard error at n = 20,000 is 0.0032: 0.01 is three of them.
    assert abs(share - 0.3) < 0.01
    assert abs(overlap - 0.09) < 0.01


def test_balancing_weights_equalise_sources_across_arms() -> None:
    treated = np.array([1, 1, 1, 0, 1, 0, 0, 0, 1, 1], dtype=bool)
    source = np.array(["ext"] * 4 + ["own"] * 4 + ["solo"] * 2)
    weight = balancing_weights(treated, source)
    # ext: 3 of 4 treated -> 0.5/0.75 and 0.5/0.25; own: 1 of 4 -> 0.5/0.25 and 0.5/0.75.
    assert weight[:4] == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0])
    assert weight[4:8] == pytest.approx([2.0, 2 / 3, 2 / 3, 2 / 3])
    assert (weight[8:] == 0).all()  # a source with one arm carries no causal information
    for name in ("ext", "own"):
        rows = source == name
        assert weight[rows & treated].sum() == pytest.approx(weight[rows & ~treated].sum())


def test_design_transforms_and_keeps_training_levels() -> None:
    train = pd.DataFrame(
        {
            "observation_key": ["a", "b"],
            "customer_key": ["K1", "K2"],
            "needs_segment_id": ["1", "2"],
            "lifecycle_stage": ["active", "lapsed"],
            "orders_count": [3, 0],
            "days_since_first_order": [210.0, np.nan],
            "days_since_last_order": [10.0, np.nan],
            "discount_share": [0.25, np.nan],
        }
    )
    design = Design.learn(train)
    assert design.numeric == (
        "orders_count",
        "days_since_first_order",
        "days_since_last_order",
        "discount_share",
    )
    assert design.levels == {"needs_segment_id": ("1", "2"), "lifecycle_stage": ("active", "lapsed")}
    new = train.assign(needs_segment_id=["7", "1"])
    matrix = pd.DataFrame(design.matrix(new), columns=design.names)
    first = matrix.iloc[0]
    assert first["orders_count"] == pytest.approx(np.log1p(3))
    assert first["discount_share"] == pytest.approx(0.25)  # shares stay on their scale
    assert first["mean_days_between_orders"] == pytest.approx(np.log1p(100.0))  # (210 - 10) / 2
    assert first["recency_ratio"] == pytest.approx(np.log1p(0.1))  # 10 days of a 100-day rhythm
    assert first["needs_segment_id=1"] == 0 and first["needs_segment_id=2"] == 0  # unseen level '7'
    second = matrix.iloc[1]
    assert second["has_purchased"] == 0 and second["days_since_last_order"] == 0  # no orders: neutral
    assert not matrix.isna().any().any()


def test_expected_margin_per_conversion_shrinks_towards_the_population() -> None:
    scoring = pd.DataFrame({"orders_count": [0, 2, 8], "gross_margin": [0.0, 60.0, 80.0]})
    margin = expected_margin_per_conversion(scoring, population=20.0, prior_orders=2.0)
    # (0 + 40) / 2, (60 + 40) / 4, (80 + 40) / 10
    assert margin == pytest.approx([20.0, 25.0, 12.0])
    assert expected_margin_per_conversion(scoring.head(1), 20.0, 0.0) == pytest.approx([20.0])


# --- statistics -------------------------------------------------------------------------------


def test_difference_in_means_and_p_value_by_hand() -> None:
    outcome = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    treated = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    diff, se = difference_in_means(outcome, treated)
    # 2/4 - 1/6; se = sqrt(0.5 * 0.5 / 4 + (1/6)(5/6) / 6)
    assert diff == pytest.approx(1 / 3)
    assert se == pytest.approx(np.sqrt(0.0625 + (5 / 36) / 6))
    assert one_sided_p_value(0.1, 0.05) == pytest.approx(0.0227501, abs=1e-6)  # P(Z >= 2)
    assert one_sided_p_value(None, 0.05) is None
    assert difference_in_means(outcome[treated], treated[treated]) == (None, None)


def test_holdout_metrics_on_a_perfect_ranking() -> None:
    # Persuadables convert only if treated; the others never convert: a perfect score ranks them first.
    persuadable = np.repeat([1, 0], 200)
    treated = np.tile([1, 0], 200).astype(bool)
    converted = persuadable.astype(bool) & treated
    metrics = holdout_metrics(
        converted, treated, persuadable.astype(float) - 0.5, alpha=0.05, min_targeted_per_arm=30
    )
    print(f"\nperfect ranking: {metrics}")
    assert metrics["uplift_at_10"] == pytest.approx(1.0)
    assert metrics["uplift_at_30"] == pytest.approx(1.0)
    # sklift's "perfect" Qini curve orders by the realised outcomes (treated converters first,
    # control converters last), which no score can do: the best score-based ranking here gets 2/3.
    assert metrics["qini_coefficient"] == pytest.approx(2 / 3)
    assert metrics["targeted_observed_uplift"] == pytest.approx(1.0) and metrics["is_validated"]
    assert metrics["observed_uplift_test"] == pytest.approx(0.5)
    empty = holdout_metrics(converted[treated], treated[treated], persuadable[treated], 0.05, 30)
    assert empty["qini_coefficient"] is None and not empty["is_validated"]


# --- learners on synthetic data ---------------------------------------------------------------


@pytest.mark.parametrize(
    "learner, base_estimator",
    [("two_model", "logistic"), ("class_transformation", "logistic"), ("two_model", "gradient_boosting")],
)
def test_learners_rank_the_planted_persuadables_first(learner: str, base_estimator: str) -> None:
    data = synthetic(6_000, effect=0.25, seed=1)
    settings = UpliftSettings(learner=learner, base_estimator=base_estimator)
    fits = fit_all(features_only(data), AS_OF, settings)
    (fit,) = fits
    assert fit.evaluation["status"] == STATUS_FITTED
    held_out = data[is_test_customer(data.customer_key.tolist(), settings.split_salt, settings.test_share)]
    _, _, uplift = fit.learner.predict(fit.design.matrix(held_out))
    true = held_out.true_effect.to_numpy()
    quality = truth_qini(true, uplift)
    top = true[np.argsort(-uplift, kind="stable")[: len(true) // 10]].mean()
    evaluation = fit.evaluation
    print(
        f"\n{learner}/{base_estimator}: truth Qini {quality:.3f}, top-decile true effect {top:.3f} "
        f"(average {true.mean():.3f}); held-out Qini {evaluation['qini_coefficient']:.3f}, "
        f"uplift@10 {evaluation['uplift_at_10']:.3f}, uplift@30 {evaluation['uplift_at_30']:.3f}, "
        f"policy p {evaluation['targeted_uplift_p_value']:.4f}"
    )
    # 17 % of customers are persuadable with a 0.25 effect: a useful model puts most of them first.
    assert quality > 0.5
    assert top > 2 * true.mean()
    assert evaluation["qini_coefficient"] > 0 and evaluation["is_validated"]


def test_a_treatment_without_effect_is_validated_at_the_nominal_rate_only() -> None:
    # The policy check is a one-sided test at alpha = 0.05 on held-out customers the training
    # split chose, so without an effect it passes in 5 % of samples. 40 independent samples:
    # P(7 or more passes | 5 %) = 0.4 %, so more than 6 means the check is not what it claims.
    passed, predicted = 0, []
    for seed in range(40):
        evaluation = fit_all(features_only(synthetic(2_000, 0.0, seed=100 + seed)), AS_OF, UpliftSettings())[
            0
        ].evaluation
        passed += bool(evaluation["is_validated"])
        predicted.append(evaluation["predicted_uplift_test"])
    print(
        f"\nzero effect: validated in {passed} of 40 samples; mean predicted uplift {np.mean(predicted):+.4f}"
    )
    assert passed <= 6
    assert abs(np.mean(predicted)) < 0.01  # no systematic effect invented


def test_scores_are_deterministic_and_independent_of_row_order() -> None:
    data = features_only(
        pd.concat([synthetic(3_000, 0.25, seed=3, code="A"), synthetic(3_000, 0.1, seed=4, code="B")])
    )
    scoring = data.drop_duplicates("customer_key").head(500).assign(observation_role="scoring")
    settings = UpliftSettings()
    first = scores_frame(fit_all(data, AS_OF, settings), scoring, settings)
    shuffled = data.sample(frac=1.0, random_state=9)
    second = scores_frame(
        fit_all(shuffled, AS_OF, settings), scoring.sample(frac=1.0, random_state=9), settings
    )
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == list(SCORES_SCHEMA)
    assert set(first.model_id) == {model_id("two_model", code, AS_OF) for code in ("A", "B")}
    assert first.model_id.iloc[0] == "uplift_two_model_a_20260630"
    for _, rows in first.groupby("treatment_code"):
        assert sorted(rows.uplift_rank) == list(range(1, len(rows) + 1))
        assert rows.uplift_decile.value_counts().sort_index().tolist() == [50] * 10
        best = rows.sort_values("uplift_rank")
        assert best.uplift_conversion.is_monotonic_decreasing
    assert np.allclose(
        first.expected_incremental_margin, first.uplift_conversion * first.expected_margin_per_conversion
    )


def test_too_few_assignments_give_an_evaluation_row_and_no_scores() -> None:
    data = features_only(synthetic(400, 0.2, seed=5, code="SMALL"))
    settings = UpliftSettings(min_group_size=200)
    fits = fit_all(data, AS_OF, settings)
    evaluation = evaluation_frame(fits)
    assert evaluation.status.tolist() == [STATUS_TOO_FEW] and not evaluation.is_validated.iloc[0]
    assert evaluation.n_train.iloc[0] + evaluation.n_test.iloc[0] == 400
    assert scores_frame(fits, data.head(10), settings).empty


def test_settings_come_from_dbt_config_text() -> None:
    settings = UpliftSettings.from_mapping(
        {
            "learner": "class_transformation",
            "test_share": "0.25",
            "min_group_size": "50.0",
            "random_state": None,
        }
    )
    assert settings.learner == "class_transformation" and settings.test_share == 0.25
    assert settings.min_group_size == 50 and settings.random_state == UpliftSettings().random_state
    with pytest.raises(ValueError, match="uplift_learner"):
        UpliftSettings.from_mapping({"learner": "s_learner"})
    with pytest.raises(ValueError, match="uplift_test_share"):
        UpliftSettings.from_mapping({"test_share": "1.0"})


def test_an_arm_without_conversions_gets_a_constant_model() -> None:
    # scikit-learn's classifiers refuse a single outcome class: the control arm's model is 0.
    data = features_only(synthetic(3_000, 0.2, seed=8, code="NONE"))
    data.loc[~data.is_treated, "converted"] = False
    settings = UpliftSettings()
    (fit,) = fit_all(data, AS_OF, settings)
    assert fit.evaluation["status"] == STATUS_FITTED
    scores = scores_frame([fit], data.head(200).assign(observation_role="scoring"), settings)
    assert (scores.p_conversion_control == 0).all()
    assert np.allclose(scores.uplift_conversion, scores.p_conversion_treated)
