"""End to end: build the measurement layer on generated data and hold it to the planted effects.

The generator plants causal effects in its randomized campaigns (marketing.assignments) and a
membership effect in the loyalty club, and writes what it planted under `_truth/`. The planted
effect of any grouping of assignments is the mean of the per-assignment expected effects over
its assigned customers, both arms (orchestration/devtools/sample_data/effects.py), so every cell of
treatment_effects - including cells of estimated needs segments, value tiers and stages - has
a planted value to compare with. Run with -s to see the figures.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.slow

CUSTOMERS, SEED = 4_000, 21
ZERO_CAMPAIGN = "RCT-04"  # NEWSLETTER: planted effect zero
ALPHA = 0.05  # dbt var measurement_alpha
MIN_STRATUM_CONTROLS = 5  # dbt var measurement_loyalty_min_stratum_controls
MEASUREMENT_MODELS = (
    "int_measurement__assignments int_measurement__value_tier_thresholds int_measurement__assignment_context "
    "int_measurement__assignment_outcomes int_measurement__effect_sums int_measurement__effect_statistics "
    "int_measurement__loyalty_anchors int_measurement__loyalty_units int_measurement__loyalty_strata "
    "treatment_outcomes treatment_effects loyalty_program_effect"
)
# Metrics the zero-effect check covers: the newsletter changes no purchase, but a click on it
# is a visit, so its visit rate may rise for real.
PURCHASE_METRICS = ("conversion_rate", "revenue_per_customer", "margin_per_customer")


def _query(workspace: DbtWorkspace, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as connection:
        return connection.execute(sql).df()


def _dbt(workspace: DbtWorkspace, *args: str) -> None:
    result = run_dbt(list(args), workspace)
    assert result.returncode == 0, result.stdout[-6000:]


def _truth(workspace: DbtWorkspace, name: str) -> pd.DataFrame:
    return pq.read_table(Path(workspace.raw_path) / "_truth" / f"{name}.parquet").to_pandas()


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> DbtWorkspace:
    """One clean sample, the measurement models and everything upstream, then their tests."""
    root = tmp_path_factory.mktemp("measurement")
    generate(GeneratorConfig(customers=CUSTOMERS, seed=SEED, out=root / "raw"))
    workspace = DbtWorkspace(root / "raw", root / "warehouse.duckdb", root / "dbt")
    selection = "+treatment_effects +loyalty_program_effect"
    _dbt(workspace, "build", "--select", selection, "--exclude-resource-type", "test", "unit_test")
    _dbt(
        workspace, "test", "--select", MEASUREMENT_MODELS, "assert_measurement_statistics_match_hand_computed"
    )
    return workspace


@pytest.fixture(scope="module")
def cells(build: DbtWorkspace) -> pd.DataFrame:
    """Every external campaign's cells with enough data, with their planted effects."""
    outcomes = _query(
        build,
        """
        select assignment_id, campaign_id, needs_segment_id, value_tier, lifecycle_stage
        from measurement.treatment_outcomes
        where assignment_source = 'external' and is_window_complete
        """,
    )
    truth = _truth(build, "assignment_outcomes")[
        ["assignment_id", "expected_effect_conversion", "expected_effect_revenue"]
    ]
    assigned = outcomes.merge(truth, on="assignment_id", validate="one_to_one")
    planted = []
    for dimension, column in (
        ("overall", None),
        ("needs_segment", "needs_segment_id"),
        ("value_tier", "value_tier"),
        ("lifecycle_stage", "lifecycle_stage"),
    ):
        values = "all" if column is None else assigned[column].astype(str)
        per_cell = (
            assigned.assign(dimension=dimension, dimension_value=values)
            .groupby(["campaign_id", "dimension", "dimension_value"], as_index=False)
            .agg(
                planted_conversion=("expected_effect_conversion", "mean"),
                planted_revenue=("expected_effect_revenue", "mean"),
            )
        )
        planted.append(per_cell)
    effects = _query(build, "select * from measurement.treatment_effects where has_enough_data")
    return effects.merge(pd.concat(planted), on=["campaign_id", "dimension", "dimension_value"], how="inner")


def test_outcomes_match_the_generators_own_outcomes(build: DbtWorkspace) -> None:
    # The generator records each RCT assignment's realized outcome with the same definition
    # (non-cancelled orders of the person in [assigned_at, +30 days), net revenue): on clean
    # data every assignment must agree exactly, so no identity or window error hides in the
    # effects below.
    measured = _query(
        build,
        """
        select assignment_id, converted, orders_count, cast(revenue as double) as revenue
        from measurement.treatment_outcomes where assignment_source = 'external'
        """,
    )
    truth = _truth(build, "assignment_outcomes")
    both = measured.merge(truth, on="assignment_id", how="outer", validate="one_to_one", indicator=True)
    agree = (
        (both.converted == both.outcome_converted)
        & (both.orders_count == both.outcome_purchases)
        & ((both.revenue - both.outcome_revenue).abs() < 0.01)
    )
    print(
        f"external assignments {len(truth)}, measured {len(measured)}, outcomes agreeing {agree.mean():.4f}"
    )
    assert (both._merge == "both").all()
    assert agree.all(), both[~agree].head().to_string()


def test_own_assignments_enter_only_with_a_complete_window(build: DbtWorkspace) -> None:
    counts = _query(
        build,
        """
        select
            (select count(*) from activation.treatment_assignment_history) as history,
            (select count(*) from measurement.treatment_outcomes where assignment_source = 'own') as own,
            (select count(*) from measurement.treatment_outcomes
             where assignment_source = 'own' and is_window_complete) as own_complete,
            (select coalesce(sum(n_treated + n_control), 0) from measurement.treatment_effects
             where campaign_id like 'CIW-%' and dimension = 'overall') as own_in_effects
        """,
    ).iloc[0]
    print(counts.to_dict())
    # The sample has one activation run, on the as-of date: its windows are all still open.
    assert counts.history > 0 and counts.own == counts.history
    assert counts.own_in_effects == counts.own_complete


def test_intervals_contain_the_planted_effects(cells: pd.DataFrame) -> None:
    # 95% intervals: about 5% of cells miss by chance. Requiring 90% per metric leaves room for
    # that over the ~50 cells here (overlapping breakdowns of four campaigns); a biased
    # estimator (post-treatment cells, wrong window, wrong arm) misses far more often.
    covered = pd.DataFrame(
        {
            "conversion": cells.planted_conversion.between(
                cells.conversion_rate_uplift_lower, cells.conversion_rate_uplift_upper
            ),
            "revenue": cells.planted_revenue.between(
                cells.revenue_per_customer_uplift_lower, cells.revenue_per_customer_uplift_upper
            ),
        }
    )
    by_dimension = covered.groupby(cells.dimension).mean()
    print(
        f"cells with enough data: {len(cells)}; coverage by breakdown:\n{by_dimension.round(3).to_string()}"
    )
    shown = cells[cells.dimension.isin(["overall", "needs_segment"])]
    print(
        shown[
            [
                "campaign_id", "dimension", "dimension_value", "n_treated", "n_control",
                "planted_conversion", "conversion_rate_uplift", "conversion_rate_uplift_lower",
                "conversion_rate_uplift_upper", "planted_revenue", "revenue_per_customer_uplift",
            ]
        ].round(3).to_string(index=False)
    )  # fmt: skip
    assert len(cells) >= 40
    assert covered.conversion.mean() >= 0.9
    assert covered.revenue.mean() >= 0.9
    segments = covered[cells.dimension.eq("needs_segment").to_numpy()]
    assert len(segments) >= 12 and segments.mean().min() >= 0.9


def test_the_zero_effect_treatment_is_rarely_significant(cells: pd.DataFrame) -> None:
    # Each cell x metric of the newsletter is a test of a true null at alpha; the count of
    # significant ones may not exceed the 99th percentile of Binomial(tests, alpha) (the tests
    # are positively correlated, which widens the spread, so this is lenient only in theory).
    zero = cells[cells.campaign_id == ZERO_CAMPAIGN]
    flags = zero[[f"{metric}_is_significant" for metric in PURCHASE_METRICS]]
    tests, significant = flags.size, int(flags.to_numpy().sum())
    allowed = int(stats.binom.ppf(0.99, tests, ALPHA))
    print(
        f"{ZERO_CAMPAIGN}: {significant} significant of {tests} tests (nominal {ALPHA * tests:.1f}, "
        f"allowed {allowed}); planted conversion effects {zero.planted_conversion.abs().max():.3g} at most"
    )
    assert tests >= 30
    assert significant <= allowed
    assert not zero[zero.dimension == "overall"][[f"{m}_is_significant" for m in PURCHASE_METRICS]].any(
        axis=None
    )


def test_the_effective_campaign_is_detected(cells: pd.DataFrame) -> None:
    # WINBACK_10 (RCT-01) is planted at about +8 conversion points, several standard errors at
    # this size: the test must find it, and its interval must exclude zero.
    overall = cells[(cells.campaign_id == "RCT-01") & (cells.dimension == "overall")].iloc[0]
    print(
        f"RCT-01 conversion uplift {overall.conversion_rate_uplift:.4f} "
        f"[{overall.conversion_rate_uplift_lower:.4f}, {overall.conversion_rate_uplift_upper:.4f}], "
        f"p {overall.conversion_rate_p_value:.2e}, planted {overall.planted_conversion:.4f}; verdict {overall.verdict}"
    )
    assert overall.verdict == "significant_increase"


def test_loyalty_estimate_recovers_the_planted_membership_effect(build: DbtWorkspace) -> None:
    effect = _query(build, "select * from measurement.loyalty_program_effect").set_index("estimate")
    units = _query(
        build,
        "select customer_key, is_member, stratum_id, is_active_after from intermediate.int_measurement__loyalty_units",
    )
    keys = _query(build, "select customer_id, customer_key from intermediate.int_identity__account_keys")
    truth = _truth(build, "loyalty_effect").merge(keys, on="customer_id", validate="many_to_one")
    truth = truth.sort_values("joined_at").drop_duplicates("customer_key")
    lines = []
    for estimate, population in (
        ("matched_did", units),
        ("matched_did_active", units[units.is_active_after]),
    ):
        sizes = population.groupby(["stratum_id", "is_member"]).size().unstack(fill_value=0)
        matched = sizes[(sizes.get(True, 0) > 0) & (sizes.get(False, 0) >= MIN_STRATUM_CONTROLS)].index
        members = population[population.is_member & population.stratum_id.isin(matched)]
        planted = members.merge(truth, on="customer_key", how="left")
        row = effect.loc[estimate]
        lines.append(
            f"{estimate}: {row.incremental_orders_per_member:.4f} [{row.incremental_orders_per_member_lower:.4f}, "
            f"{row.incremental_orders_per_member_upper:.4f}] incremental orders per member in 90 days; planted "
            f"{planted.expected_incremental_purchases_90d.mean():.4f} over its {len(planted)} members "
            f"(changed share {planted.is_changed.mean():.3f}; estimated lower bound {row.changed_share_lower_bound:.3f})"
        )
        if estimate == "matched_did_active":
            headline, planted_headline = row, planted
    naive = effect.loc["naive"]
    print(f"naive: {naive.incremental_orders_per_member:.4f} per member (members vs non-members, unmatched)")
    print("\n".join(lines))
    assert headline.is_headline and len(planted_headline) == headline.members_measured
    assert planted_headline.expected_incremental_purchases_90d.notna().all()
    true_effect = planted_headline.expected_incremental_purchases_90d.mean()
    assert (
        headline.incremental_orders_per_member_lower
        <= true_effect
        <= headline.incremental_orders_per_member_upper
    )
    # The naive comparison credits the club with who joins: far above the planted effect.
    assert naive.incremental_orders_per_member > headline.incremental_orders_per_member_upper
    # The changed-share bound may not claim more changed members than were planted (its interval
    # bound, to allow for chance).
    assert headline.changed_share_lower_bound_lower <= planted_headline.is_changed.mean()
