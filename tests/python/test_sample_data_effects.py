"""Tests of the planted causal effects: randomized treatments, the loyalty effect and their truth.

Every check compares what the raw data shows (resolved to persons with the identity truth)
with what `_truth/` says was planted. Run with -s to see the measured figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.devtools.sample_data.config import (
    RCT_CAMPAIGNS,
    TREATMENT_CODES,
    VALUE_TIER_SHARES,
    VALUE_TIERS,
)
from orchestration.devtools.sample_data.effects import (
    Deliveries,
    draw_responses,
    effect_matrices,
    person_state_from_truth,
)

pytestmark = pytest.mark.slow

ZERO_CAMPAIGN = "RCT-04"  # NEWSLETTER: planted effect zero


def read_raw(root: Path, qualified: str) -> pd.DataFrame:
    source, name = qualified.split(".")
    return pq.read_table(root / source / name / "part-00000.parquet").to_pandas()


def read_truth(root: Path, name: str) -> pd.DataFrame:
    return pq.read_table(root / "_truth" / f"{name}.parquet").to_pandas()


def purchases(root: Path) -> pd.DataFrame:
    """Non-cancelled raw orders with their true person (from the order truth)."""
    orders = read_raw(root, "shop.orders")[["order_id", "ordered_at", "status"]]
    truth = read_truth(root, "orders")
    data = orders.merge(truth, on="order_id", validate="one_to_one")
    return data[data.status != "cancelled"]


def raw_assignments(root: Path) -> pd.DataFrame:
    """Raw assignments with the person behind the account (from the identity truth)."""
    persons = read_truth(root, "persons")
    accounts = persons[persons.identifier_type == "customer_id"][["identifier_value", "person_id"]]
    accounts = accounts.rename(columns={"identifier_value": "customer_id"})
    return read_raw(root, "marketing.assignments").merge(accounts, on="customer_id", validate="many_to_one")


def window_outcomes(root: Path, window_days: float = 30.0) -> pd.DataFrame:
    """Per raw assignment: purchases and revenue of the person in [assigned_at, + window)."""
    assigned = raw_assignments(root)
    assigned["window_end"] = assigned.assigned_at + pd.Timedelta(days=window_days)
    joined = assigned[["assignment_id", "person_id", "assigned_at", "window_end"]].merge(
        purchases(root)[["person_id", "ordered_at", "net_revenue"]], on="person_id"
    )
    inside = joined[(joined.ordered_at >= joined.assigned_at) & (joined.ordered_at < joined.window_end)]
    totals = inside.groupby("assignment_id").agg(n=("net_revenue", "size"), revenue=("net_revenue", "sum"))
    out = assigned.set_index("assignment_id").join(totals).fillna({"n": 0, "revenue": 0.0})
    out["converted"] = out.n > 0
    return out


def diff_in_means(data: pd.DataFrame, column: str) -> tuple[float, float]:
    treated, control = data[data.group == "treatment"][column], data[data.group == "control"][column]
    diff = treated.astype(float).mean() - control.astype(float).mean()
    se = np.sqrt(treated.astype(float).var() / len(treated) + control.astype(float).var() / len(control))
    return float(diff), float(se)


# --- the truth files -----------------------------------------------------------------------------


def test_treatment_effect_truth_is_complete_and_consistent(effects_raw: Path) -> None:
    effects = read_truth(effects_raw, "treatment_effects")
    outcomes = read_truth(effects_raw, "assignment_outcomes")
    q, m = effect_matrices()
    assert set(effects.level) == {"campaign", "segment", "value_tier", "cell"}
    for level, keys in (
        ("campaign", ["campaign_id"]),
        ("segment", ["campaign_id", "segment_id"]),
        ("value_tier", ["campaign_id", "value_tier"]),
        ("cell", ["campaign_id", "segment_id", "value_tier"]),
    ):
        rows = effects[effects.level == level].set_index(keys).sort_index()
        groups = outcomes.groupby(keys)
        expected = pd.DataFrame(
            {
                "n_treatment": groups.group.apply(lambda g: (g == "treatment").sum()),
                "n_control": groups.group.apply(lambda g: (g == "control").sum()),
                "true_effect_purchase_probability": groups.expected_effect_conversion.mean(),
                "true_effect_revenue": groups.expected_effect_revenue.mean(),
                "baseline_conversion_rate": groups.baseline_converted.mean(),
            }
        ).sort_index()
        assert list(rows.index) == list(expected.index), level
        for column in expected.columns:
            assert np.allclose(rows[column], expected[column], atol=1e-9), (level, column)
    cells = effects[(effects.level == "cell") & (effects.value_tier != "none")]
    for row in cells.itertuples():
        code = TREATMENT_CODES.index(row.treatment_code)
        tier = VALUE_TIERS.index(row.value_tier)
        segment = int(row.segment_id) - 1
        assert row.planted_purchase_probability == pytest.approx(q[code, segment, tier])
        assert row.planted_spend_change == pytest.approx(m[code, segment, tier])
    zero = effects[effects.campaign_id == ZERO_CAMPAIGN]
    assert (zero.true_effect_purchase_probability == 0).all() and (zero.true_effect_revenue == 0).all()
    assert (outcomes[~outcomes.is_responsive].expected_effect_conversion == 0).all()
    assert (outcomes[outcomes.value_tier == "none"].is_responsive == False).all()  # noqa: E712
    overall = effects[effects.level == "campaign"].set_index("campaign_id")
    print("\nplanted average effects (10k customers):")
    print(
        overall[
            [
                "treatment_code",
                "n_treatment",
                "n_control",
                "baseline_conversion_rate",
                "true_effect_purchase_probability",
                "true_effect_revenue",
            ]
        ]
        .round(4)
        .to_string()
    )


def test_assignment_truth_matches_the_raw_data(effects_raw: Path) -> None:
    outcomes = read_truth(effects_raw, "assignment_outcomes").set_index("assignment_id")
    observed = window_outcomes(effects_raw)
    assert sorted(observed.index) == sorted(outcomes.index)
    observed = observed.loc[outcomes.index]
    for column in ("customer_id", "person_id", "campaign_id", "treatment_code", "group", "assigned_at"):
        assert (observed[column] == outcomes[column]).all(), column
    assert (observed.n == outcomes.outcome_purchases).all()
    assert np.allclose(observed.revenue, outcomes.outcome_revenue, atol=0.005)
    # Controls are untouched: their outcome is the untreated one.
    control = outcomes[outcomes.group == "control"]
    assert (control.outcome_purchases == control.baseline_purchases).all()
    assert (control.outcome_revenue == control.baseline_revenue).all()
    # One assignment per person and campaign.
    assert not outcomes.duplicated(["campaign_id", "person_id"]).any()
    # Campaign purchases happen inside the window of a treated, responsive assignment of that campaign.
    bought = purchases(effects_raw)
    extra = bought[bought.purchase_source == "campaign"].merge(
        outcomes.reset_index(),
        left_on=["person_id", "effect_campaign_id"],
        right_on=["person_id", "campaign_id"],
    )
    assert len(extra) == outcomes.incremental_purchases.sum() > 0
    assert (extra.group == "treatment").all() and extra.is_responsive.all()
    assert ((extra.ordered_at >= extra.assigned_at) & (extra.ordered_at < extra.window_end)).all()


def test_treated_outcomes_follow_the_expected_effects(effects_raw: Path) -> None:
    """Treated customers carry both outcomes: realized effect minus expected is only draw noise."""
    outcomes = read_truth(effects_raw, "assignment_outcomes")
    treated = outcomes[outcomes.group == "treatment"]
    print()
    for campaign, rows in treated.groupby("campaign_id"):
        for outcome, baseline, expected in (
            ("outcome_converted", "baseline_converted", "expected_effect_conversion"),
            ("outcome_revenue", "baseline_revenue", "expected_effect_revenue"),
        ):
            realized = rows[outcome].astype(float) - rows[baseline].astype(float)
            se = realized.std() / np.sqrt(len(rows))
            print(
                f"{campaign} {outcome}: realized {realized.mean():.4f}, expected "
                f"{rows[expected].mean():.4f} (se {se:.4f})"
            )
            # 4 standard errors: a deterministic seed, and a bound a wrong formula breaks by far.
            assert abs(realized.mean() - rows[expected].mean()) <= 4 * se + 1e-9, (campaign, outcome)


# --- what a measurement would see ------------------------------------------------------------------


def test_naive_difference_recovers_the_planted_effects(effects_raw: Path) -> None:
    """Treated minus control conversion in the 30-day window, from raw orders and assignments.

    Tolerance: 3 standard errors of the difference (the randomization makes it unbiased for the
    truth's mean expected effect); the largest effect (WINBACK_10, about 8 points against a
    standard error of about 1.7) must also be significant at this size.
    """
    observed = window_outcomes(effects_raw)
    truth = read_truth(effects_raw, "treatment_effects")
    truth = truth[truth.level == "campaign"].set_index("campaign_id")
    print()
    for campaign, rows in observed.groupby("campaign_id"):
        planted = truth.loc[campaign]
        conversion, revenue = planted.true_effect_purchase_probability, planted.true_effect_revenue
        diff, se = diff_in_means(rows, "converted")
        rev, rev_se = diff_in_means(rows, "revenue")
        print(
            f"{campaign} {planted.treatment_code:13s} n={planted.n_treatment}/{planted.n_control} "
            f"conversion uplift {diff:+.4f} ± {1.96 * se:.4f} (planted {conversion:.4f}); "
            f"revenue {rev:+.2f} ± {1.96 * rev_se:.2f} (planted {revenue:.2f})"
        )
        assert abs(diff - conversion) <= 3 * se, campaign
        assert abs(rev - revenue) <= 3 * rev_se, campaign
    winback = observed[observed.campaign_id == "RCT-01"]
    diff, se = diff_in_means(winback, "converted")
    assert diff / se > 2.58


def test_zero_effect_campaign_changes_nothing(effects_raw: Path) -> None:
    outcomes = read_truth(effects_raw, "assignment_outcomes")
    zero = outcomes[outcomes.campaign_id == ZERO_CAMPAIGN]
    assert len(zero) > 3_000
    assert (zero.outcome_purchases == zero.baseline_purchases).all()
    assert (zero.outcome_revenue == zero.baseline_revenue).all()
    assert (zero.expected_effect_conversion == 0).all() and (zero.expected_effect_revenue == 0).all()
    observed = window_outcomes(effects_raw)
    diff, se = diff_in_means(observed[observed.campaign_id == ZERO_CAMPAIGN], "converted")
    print(f"\n{ZERO_CAMPAIGN} (NEWSLETTER) naive uplift {diff:+.4f} ± {1.96 * se:.4f}")
    assert abs(diff) <= 2.58 * se  # a 1% false-positive bound for one deterministic draw


def test_treated_customers_get_the_message_and_controls_do_not(effects_raw: Path) -> None:
    sends = read_raw(effects_raw, "marketing.communications")
    assigned = read_raw(effects_raw, "marketing.assignments")
    for campaign in RCT_CAMPAIGNS:
        rct = sends[sends.campaign_id == campaign.campaign_id]
        groups = assigned[assigned.campaign_id == campaign.campaign_id].set_index("customer_id").group
        assert len(rct) > 0 and set(rct.channel) == {campaign.channel}
        assert (groups.loc[rct.customer_id] == "treatment").all()
        assert (rct.treatment_code == campaign.treatment_code).all()
        assert rct.customer_id.is_unique
        assert (rct.sent_at >= assigned[assigned.campaign_id == campaign.campaign_id].assigned_at.min()).all()
        reach = len(rct) / (groups == "treatment").sum()
        print(
            f"\n{campaign.campaign_id}: {reach:.0%} of treated customers consent to {campaign.channel}",
            end="",
        )
        assert 0.2 < reach < 1.0  # only consenting customers get the message


def test_effects_are_a_small_share_of_orders(effects_raw: Path) -> None:
    manifest = json.loads((effects_raw / "_truth/manifest.json").read_text())
    share = manifest["effects"]["incremental_purchases"]
    print(f"\nincremental purchases: {share}")
    assert 0.005 < share["share_of_purchases"] < 0.035
    truth = read_truth(effects_raw, "orders")
    counts = truth.purchase_source.value_counts()
    assert counts["campaign"] == share["campaign"] and counts["loyalty"] == share["loyalty"]


def test_value_tiers_follow_the_planted_shares(effects_raw: Path) -> None:
    params = read_truth(effects_raw, "person_parameters")
    buyers = params[params.purchase_rate_per_day.notna()]
    shares = buyers.value_tier.value_counts(normalize=True).reindex(list(VALUE_TIERS))
    print(f"\nvalue tier shares: {shares.round(3).to_dict()}")
    assert np.allclose(shares, VALUE_TIER_SHARES, atol=0.02)
    assert params[params.purchase_rate_per_day.isna()].value_tier.isna().all()


# --- loyalty -------------------------------------------------------------------------------------


def _members(root: Path) -> pd.DataFrame:
    """Members with their purchases before joining (after the first) and during the effect."""
    members = read_truth(root, "loyalty_effect").merge(
        read_truth(root, "person_parameters")[["person_id", "acquired_at"]], on="person_id"
    )
    bought = purchases(root)[["person_id", "ordered_at", "purchase_source"]]
    joined = members[["person_id", "acquired_at", "joined_at", "effect_end_at"]].merge(bought, on="person_id")
    before = joined[(joined.ordered_at > joined.acquired_at) & (joined.ordered_at < joined.joined_at)]
    during = joined[(joined.ordered_at >= joined.joined_at) & (joined.ordered_at < joined.effect_end_at)]
    loyalty = joined[joined.purchase_source == "loyalty"]
    members = members.set_index("person_id")
    members["before_n"] = before.groupby("person_id").size().reindex(members.index, fill_value=0)
    members["during_n"] = during.groupby("person_id").size().reindex(members.index, fill_value=0)
    members["loyalty_n"] = loyalty.groupby("person_id").size().reindex(members.index, fill_value=0)
    members["before_days"] = (members.joined_at - members.acquired_at).dt.total_seconds() / 86_400
    members["during_days"] = (members.effect_end_at - members.joined_at).dt.total_seconds() / 86_400
    return members


def test_loyalty_truth_matches_the_raw_memberships(effects_raw: Path) -> None:
    raw = read_raw(effects_raw, "crm.loyalty_members").set_index("member_id").sort_index()
    truth = read_truth(effects_raw, "loyalty_effect").set_index("member_id").sort_index()
    assert list(raw.index) == list(truth.index)
    assert (raw.customer_id == truth.customer_id).all() and (raw.joined_at == truth.joined_at).all()
    assert raw.left_at.equals(truth.left_at)
    members = _members(effects_raw)
    assert (members.loyalty_n == members.incremental_purchases).all()
    assert (members[~members.is_changed].incremental_purchases == 0).all()
    assert (members[~members.is_changed].rate_multiplier == 1.0).all()
    changed = members[members.is_changed]
    assert changed.rate_multiplier.between(1.2, 1.6).all()
    # Poisson: realized extra purchases within 4 standard deviations of the planted expectation.
    expected = members.expected_incremental_purchases.sum()
    realized = members.incremental_purchases.sum()
    print(
        f"\nloyalty: {len(members)} members, {members.is_changed.mean():.0%} changed, "
        f"incremental purchases {realized} (expected {expected:.1f})"
    )
    assert abs(realized - expected) <= 4 * np.sqrt(expected)
    # Enough history on both sides of joining for a difference-in-differences.
    assert members.before_days.median() > 120 and members.during_days.median() > 120


def test_changed_members_buy_more_after_joining_and_the_others_do_not(effects_raw: Path) -> None:
    """Purchases per expected baseline purchase, before and after joining, changed vs unchanged.

    Dividing by each member's planted rate removes the heavy-tailed rate heterogeneity; the ratio
    of the two groups then isolates the membership effect (a difference-in-differences in rates).
    Tolerance 0.15: its spread over seeds at this size is about 0.04.
    """
    members = _members(effects_raw)
    ratios = {}
    for changed, group in members.groupby("is_changed"):
        base_during = (group.purchase_rate_per_day * group.during_days).sum()
        base_before = (group.purchase_rate_per_day * group.before_days).sum()
        ratios[changed] = (group.during_n.sum() / base_during, group.before_n.sum() / base_before)
    changed = members[members.is_changed]
    weight = changed.purchase_rate_per_day * changed.during_days
    planted = (changed.rate_multiplier * weight).sum() / weight.sum()
    after = ratios[True][0] / ratios[False][0]
    before = ratios[True][1] / ratios[False][1]
    print(
        f"\nchanged vs unchanged members: after joining x{after:.3f} (planted x{planted:.3f}), "
        f"before x{before:.3f}"
    )
    assert after == pytest.approx(planted, abs=0.15)
    assert before == pytest.approx(1.0, abs=0.15)
    summary = json.loads((effects_raw / "_truth/manifest.json").read_text())["effects"]["loyalty"]
    assert summary["members"] == len(members) and summary["changed_members"] == len(changed)
    per_member = members.expected_incremental_purchases_90d.mean()
    assert summary["incremental_purchases_per_member_first_90d"] == pytest.approx(per_member, abs=1e-5)
    print(f"true incremental purchases per member in the first 90 days: {per_member:.4f}")


# --- switching effects off, determinism, the reusable model ----------------------------------------


def test_no_effects_leaves_the_process_untouched(effects_raw: Path, no_effects_raw: Path) -> None:
    truth = read_truth(no_effects_raw, "orders")
    assert (truth[truth.is_purchase_occasion].purchase_source == "baseline").all()
    assert (truth.net_revenue == truth.baseline_net_revenue).all()
    effects = read_truth(no_effects_raw, "treatment_effects")
    assert (effects.true_effect_purchase_probability == 0).all() and (effects.true_effect_revenue == 0).all()
    assert not read_truth(no_effects_raw, "loyalty_effect").is_changed.any()
    # The same experiments and memberships are planned either way; only the responses differ.
    for table in ("marketing.assignments", "crm.loyalty_members"):
        on, off = read_raw(effects_raw, table), read_raw(no_effects_raw, table)
        keep = [c for c in on.columns if c not in ("points_balance", "tier")]
        pd.testing.assert_frame_equal(on[keep], off[keep])
    on, off = read_truth(effects_raw, "person_parameters"), read_truth(no_effects_raw, "person_parameters")
    pd.testing.assert_frame_equal(
        on.drop(columns="n_incremental_purchases"), off.drop(columns="n_incremental_purchases")
    )
    assert (off.n_incremental_purchases.fillna(0) == 0).all()
    manifest = json.loads((no_effects_raw / "_truth/manifest.json").read_text())
    assert manifest["arguments"]["effects"] is False
    assert manifest["effects"]["incremental_purchases"]["share_of_purchases"] == 0


def _file_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_effects_are_identical_whatever_the_workers(tmp_path: Path) -> None:
    runs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        generate(GeneratorConfig(customers=3_000, seed=4, out=out, chunk_size=1_000, workers=workers))
        runs.append(_file_bytes(out))
    assert runs[0] == runs[1]
    assert "_truth/assignment_outcomes.parquet" in runs[0] and "_truth/loyalty_effect.parquet" in runs[0]


def test_the_effect_model_can_be_driven_from_the_truth(effects_raw: Path) -> None:
    """What a closed-loop simulation does: rebuild person state from the truth, deliver, respond."""
    params = pq.read_table(effects_raw / "_truth/person_parameters.parquet")
    state = person_state_from_truth(params)
    n = params.num_rows
    at = int(pd.Timestamp("2026-06-01", tz="UTC").timestamp())
    code = TREATMENT_CODES.index("WINBACK_10")
    deliveries = Deliveries(np.arange(n), np.full(n, code), np.full(n, at))
    end = int(pd.Timestamp("2026-09-30", tz="UTC").timestamp())
    first = draw_responses(np.random.default_rng(1), state, deliveries, end, 6.0)
    again = draw_responses(np.random.default_rng(1), state, deliveries, end, 6.0)
    assert all(np.array_equal(getattr(first, f), getattr(again, f)) for f in first.__dataclass_fields__)
    frame = params.select(["person_type", "acquired_at", "dropout_at"]).to_pandas()
    alive = (frame.acquired_at < pd.Timestamp(at, unit="s", tz="UTC")) & (
        frame.dropout_at.isna() | (frame.dropout_at > pd.Timestamp(at, unit="s", tz="UTC"))
    )
    assert np.array_equal(first.responsive, alive.to_numpy())
    assert not first.purchased[~first.responsive].any()
    bought = first.purchased[first.responsive]
    q = first.purchase_probability[first.responsive]
    assert bought.mean() == pytest.approx(q.mean(), abs=4 * np.sqrt(q.mean() / bought.size))
    times = first.purchase_at[first.purchased]
    assert ((times >= at) & (times < first.window_end[first.purchased])).all()
    assert pa.array(first.purchase_cents[first.purchased]).to_numpy().min() >= 50
