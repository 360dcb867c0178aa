"""End to end: the journey mart against the generator's truth.

Reads the session's `full_build` (conftest: 3,000 customers with every fault kind, every layer
built and its data tests passed, the journey's among them) and checks that
- every known customer has exactly one current stage;
- customers the generator made inactive (dropped out of the BG/NBD purchase process) are
  mostly at risk or lapsed, and alive ones mostly are not (the confusion table is printed);
- editing the threshold seed changes the stages with no SQL change (a copy of the build, the
  journey models rerun);
- the history rebuilt as of an earlier date is the later history cut at that date (the lifecycle
  models and what they read, rebuilt from the same raw files in a warehouse of their own).
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.dbt_cli import DbtWorkspace, run_dbt

pytestmark = pytest.mark.slow

INACTIVE_STAGES = ("at_risk", "lapsed")
JOURNEY_MODELS = "path:models/intermediate/journey path:models/marts/journey"
# Needs customer_value / customer_needs, whose Python models this module does not build;
# the trailing + also leaves out the tests on it.
NOT_BUILT_HERE = "journey_kpis+"
# The edit proving the seed drives the stages: the P(alive) rule off (it depends on each
# build's CLV fit, so a rebuild at another as-of date differs there by design) and a shorter
# lapse for customers without a rhythm of their own.
SEED_EDITS = {"p_alive_at_risk_below": 0.0, "lapsed_default_days": 180.0}
EARLIER_BY_DAYS = 180


def _query(workspace: DbtWorkspace, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as connection:
        return connection.execute(sql).df()


def _dbt(workspace: DbtWorkspace, *args: str) -> None:
    result = run_dbt(list(args), workspace)
    assert result.returncode == 0, result.stdout[-6000:]


def _build_lifecycle(workspace: DbtWorkspace, *extra: str) -> None:
    _dbt(workspace, "seed", *extra)
    _dbt(
        workspace,
        "run",
        "--select",
        "+customer_lifecycle",
        "+journey_events",
        "+path:models/intermediate/journey",
        "--exclude",
        NOT_BUILT_HERE,
        *extra,
    )


def _edit_seed_and_rerun(workspace: DbtWorkspace, *extra: str) -> None:
    """Change the loaded seed table, as `dbt seed` of an edited CSV would, and rerun the journey models."""
    with duckdb.connect(str(workspace.duckdb_path)) as connection:
        for name, value in SEED_EDITS.items():
            connection.execute(
                "update reference.lifecycle_thresholds set threshold_value = ? where threshold_name = ?",
                [value, name],
            )
    _dbt(workspace, "run", "--select", *JOURNEY_MODELS.split(), "--exclude", NOT_BUILT_HERE, *extra)


@pytest.fixture(scope="module")
def build(full_build: DbtWorkspace) -> DbtWorkspace:
    """The session's whole build; only read here (the edit below is made on a copy)."""
    return full_build


@pytest.fixture(scope="module")
def edited(build: DbtWorkspace, tmp_path_factory: pytest.TempPathFactory) -> DbtWorkspace:
    """A copy of the build with the threshold seed edited and the journey models rerun."""
    root = tmp_path_factory.mktemp("journey_edited")
    for suffix in ("", ".wal"):
        if build.duckdb_path.with_name(build.duckdb_path.name + suffix).exists():
            shutil.copy(
                build.duckdb_path.with_name(build.duckdb_path.name + suffix),
                root / f"warehouse.duckdb{suffix}",
            )
    workspace = DbtWorkspace(build.raw_path, root / "warehouse.duckdb", root / "dbt")
    _edit_seed_and_rerun(workspace)
    return workspace


def _as_of(workspace: DbtWorkspace) -> date:
    return pd.Timestamp(
        _query(workspace, "select max(as_of_date) as d from marts.customer_lifecycle").d[0]
    ).date()


@pytest.fixture(scope="module")
def earlier(edited: DbtWorkspace, tmp_path_factory: pytest.TempPathFactory) -> DbtWorkspace:
    """The same raw data built as of EARLIER_BY_DAYS days before, with the same seed edit."""
    root = tmp_path_factory.mktemp("journey_earlier")
    workspace = DbtWorkspace(edited.raw_path, root / "warehouse.duckdb", root / "dbt")
    as_of = _as_of(edited) - timedelta(days=EARLIER_BY_DAYS)
    extra = ("--vars", f"{{as_of: '{as_of.isoformat()}'}}")
    _build_lifecycle(workspace, *extra)
    _edit_seed_and_rerun(workspace, *extra)
    return workspace


def _key_persons(workspace: DbtWorkspace) -> pd.DataFrame:
    """customer_key -> the true person who placed most of its orders (as in test_customer_360_e2e)."""
    orders = _query(workspace, "select order_id, customer_key from intermediate.int_customer__orders")
    truth = pd.read_parquet(
        Path(workspace.raw_path) / "_truth" / "orders.parquet", columns=["order_id", "person_id"]
    )
    counts = orders.merge(truth, on="order_id").groupby(["customer_key", "person_id"]).size().rename("orders")
    counts = counts.reset_index().sort_values(
        ["customer_key", "orders", "person_id"], ascending=[True, False, True]
    )
    return counts.drop_duplicates("customer_key")[["customer_key", "person_id"]]


def test_every_customer_has_exactly_one_current_stage(build: DbtWorkspace) -> None:
    c360 = _query(build, "select customer_key from customer_360.customer_360")
    current = _query(build, "select customer_key, lifecycle_stage from marts.customer_lifecycle")
    open_spells = _query(
        build, "select customer_key, lifecycle_stage from marts.customer_lifecycle_history where is_current"
    )
    print(f"customers={len(c360)}; stages: {current.lifecycle_stage.value_counts().to_dict()}")
    assert current.customer_key.is_unique and open_spells.customer_key.is_unique
    assert set(current.customer_key) == set(c360.customer_key) == set(open_spells.customer_key)
    both = current.merge(open_spells, on="customer_key", suffixes=("", "_history"))
    assert (both.lifecycle_stage == both.lifecycle_stage_history).all()


def test_dropped_out_customers_are_at_risk_or_lapsed(build: DbtWorkspace) -> None:
    """Stages against the planted BG/NBD dropout.

    The truth's "alive" includes customers who never drop out but buy rarely: in BG/NBD
    nobody drops out before a repeat purchase, so a one-time buyer from two years ago is
    "alive" though a CRM team rightly calls them lapsed. The figures are therefore printed
    three ways: all buyers, repeat buyers (where the truth's alive/dropped-out split is
    observable) and alive buyers by their true mean time between purchases.

    Measured with --faults: seed 7 at 1,000 customers, dropped out 0.813 at risk or lapsed,
    alive 0.469, alive repeat buyers 0.364; seed 7 at 3,000, 0.832, 0.443, 0.304; seed 5 at
    3,000 (full_build, this test) 0.828, 0.419, 0.289. Tolerances: dropped out >= 0.75, alive < 0.5 (the
    issue's "mostly not"; a thin margin, but the sample is deterministic: only a generator
    change can move it), alive repeat buyers <= 0.40. Customers
    who dropped out recently cannot look inactive yet; that keeps the first figure below 1.
    """
    stages = _query(
        build, "select customer_key, lifecycle_stage, purchase_days_count from marts.customer_lifecycle"
    )
    persons = pd.read_parquet(Path(build.raw_path) / "_truth" / "person_parameters.parquet")
    buyers = stages[stages.purchase_days_count > 0].merge(_key_persons(build), on="customer_key")
    buyers = buyers.merge(persons, on="person_id")
    buyers["truth"] = buyers.is_alive_at_end.map({True: "alive", False: "dropped_out"})
    buyers["inactive"] = buyers.lifecycle_stage.isin(INACTIVE_STAGES)
    print(
        "\nstage x planted truth (buyers):\n"
        + pd.crosstab(buyers.lifecycle_stage, buyers.truth, margins=True).to_string()
    )
    share = buyers.groupby("truth").inactive.mean()
    repeat = buyers[buyers.n_repeat_purchases > 0].groupby("truth").inactive.mean()
    alive = buyers[buyers.is_alive_at_end]
    by_rate = alive.groupby(
        pd.cut(1 / alive.purchase_rate_per_day, [0, 90, 180, 365, float("inf")]), observed=True
    ).inactive.agg(["mean", "size"])
    print(f"share at risk or lapsed, all buyers: {share.round(3).to_dict()}")
    print(f"share at risk or lapsed, repeat buyers: {repeat.round(3).to_dict()}")
    print(f"alive buyers at risk or lapsed by true days between purchases:\n{by_rate.round(3).to_string()}")
    assert len(buyers) > 0.9 * (stages.purchase_days_count > 0).sum()
    assert share["dropped_out"] >= 0.75
    assert share["alive"] < 0.5
    assert repeat["alive"] <= 0.40


def test_editing_the_threshold_seed_changes_stages(build: DbtWorkspace, edited: DbtWorkspace) -> None:
    sql = "select customer_key, lifecycle_stage, purchase_days_count, p_alive from marts.customer_lifecycle"
    moved = _query(build, sql).merge(
        _query(edited, sql).drop(columns="p_alive"), on=["customer_key", "purchase_days_count"]
    )
    moved = moved[moved.lifecycle_stage_x != moved.lifecycle_stage_y]
    moves = moved.groupby(["lifecycle_stage_x", "lifecycle_stage_y"]).size()
    print(f"seed edit {SEED_EDITS}: {len(moved)} customers changed stage:\n{moves.to_string()}")
    assert len(moved) > 0
    # A shorter default lapse moves customers without a rhythm of their own (one or two
    # purchase days) from at risk to lapsed; without the P(alive) rule, customers it alone
    # made at risk are back in the stage their rhythm gives, and repeat buyers whom only the
    # P(alive) gate kept at risk (P(alive) at or above it) lapse. (More past purchases also
    # count as ending a lapse, so some active or loyal customers become reactivated.)
    lapsing = (moved.lifecycle_stage_x == "at_risk") & (moved.lifecycle_stage_y == "lapsed")
    gated = moved[lapsing]
    assert lapsing.any() and ((gated.purchase_days_count <= 2) | (gated.p_alive >= 0.5)).all()
    assert ((moved.lifecycle_stage_x == "at_risk") & ~moved.lifecycle_stage_y.isin(INACTIVE_STAGES)).any()


def test_history_rebuilt_as_of_an_earlier_date_is_the_same(
    edited: DbtWorkspace, earlier: DbtWorkspace
) -> None:
    """The later history cut at the earlier as-of date equals the earlier build's history.

    Compared per customer_key present in both builds; a key can differ between the builds
    when later data merges two persons or ties a guest order to an account, so a handful
    of customers may differ (tolerance 1%).
    """
    cut = _as_of(earlier)
    columns = "customer_key, spell_number, lifecycle_stage, valid_from, valid_to"
    later = _query(
        edited, f"select {columns} from marts.customer_lifecycle_history where valid_from <= '{cut}'"
    )
    later.loc[pd.to_datetime(later.valid_to) > pd.Timestamp(cut), "valid_to"] = pd.NaT
    before = _query(earlier, f"select {columns} from marts.customer_lifecycle_history")
    keys = set(later.customer_key) & set(before.customer_key)

    def spells(frame: pd.DataFrame) -> pd.Series:
        """Per customer, its spells as one text: stage, from, to (empty while open)."""
        frame = frame[frame.customer_key.isin(keys)].sort_values(["customer_key", "spell_number"])
        valid_to = pd.to_datetime(frame.valid_to).dt.strftime("%Y-%m-%d").fillna("")
        text = (
            frame.lifecycle_stage
            + " "
            + pd.to_datetime(frame.valid_from).dt.strftime("%Y-%m-%d")
            + " "
            + valid_to
        )
        return text.groupby(frame.customer_key).agg(" / ".join)

    same = spells(later).eq(spells(before))
    print(
        f"as of {cut} vs cut of the later build: {len(keys)} common customers "
        f"(earlier build {before.customer_key.nunique()}), identical histories {same.mean():.4f}"
    )
    assert len(keys) > 0.9 * before.customer_key.nunique()
    assert same.mean() >= 0.99
