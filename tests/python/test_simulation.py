"""The closed-loop simulation: sends reach only treated customers, responses feed the next build,
the draws are reproducible, and the report sets planted against measured effects.

One small loop (800 customers, two weekly runs, the final measurement with `dbt run`) is shared
by the tests; run with -s to see its figures. The planted-vs-measured agreement itself is not
asserted here: two runs of 800 customers leave intervals far wider than the effects (see the
docs/simulation.md for a full `make simulate`).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_measurement_statistics import check_clustered_cells, compared_rows

from orchestration.devtools.sample_data import generate
from orchestration.devtools.simulation.channels import ChannelTools
from orchestration.devtools.simulation.comparison import _window_share, compare
from orchestration.devtools.simulation.config import SimulationConfig
from orchestration.devtools.simulation.loop import run_simulation
from orchestration.devtools.simulation.orderbook import OrderBook
from orchestration.devtools.simulation.population import generator_config, load_population
from orchestration.devtools.simulation.report import format_report
from orchestration.devtools.simulation.responses import Responder
from orchestration.syncs import DestinationResult, SyncResult, load_config

pytestmark = pytest.mark.slow


def _config(out: Path) -> SimulationConfig:
    return SimulationConfig(customers=800, days=8, step=7, seed=11, out=out, final_command="run", quiet=True)


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> SimulationConfig:
    config = _config(tmp_path_factory.mktemp("simulation") / "sim")
    run_simulation(config)
    return config


def _sim_parts(config: SimulationConfig, folder: str) -> pd.DataFrame:
    files = sorted((config.raw_path / folder).glob("part-sim-*.parquet"))
    return pd.concat([pq.read_table(f).to_pandas().assign(file=f.name) for f in files], ignore_index=True)


def _history(config: SimulationConfig) -> pd.DataFrame:
    with duckdb.connect(str(config.duckdb_path), read_only=True) as con:
        return con.execute(
            "select customer_key, treatment_code, is_holdout, holdout_type, cast(run_date as date) as run_date "
            "from activation.treatment_assignment_history"
        ).df()


def test_responses_reach_only_delivered_treated_customers(loop: SimulationConfig) -> None:
    sends = pd.read_parquet(loop.ledger_path / "sends.parquet")
    history = _history(loop)
    runs = {d.isoformat() for d in loop.run_dates}
    assert set(sends.run_date) == runs and len(sends) > 300

    # Every send is a treated (not held-out) row of its run's activation, delivered in a sync file.
    history["run_date"] = pd.to_datetime(history.run_date).dt.strftime("%Y-%m-%d")
    keyed = sends.merge(
        history, on=["customer_key", "treatment_code", "run_date"], how="left", validate="one_to_one"
    )
    assert keyed.is_holdout.notna().all() and not keyed.is_holdout.any()
    exported = set()
    for path in sorted(loop.exports_path.rglob("sim-*.*")):
        rows = (
            pd.read_csv(path, dtype=str)
            if path.suffix == ".csv"
            else pd.read_json(path, lines=True, dtype=False)
        )
        upserts = rows[rows.op == "upsert"]
        exported.update(upserts.assignment_id.astype(str))
    assert set(sends.assignment_id) <= exported

    # Held-out customers get no message from the run that held them out; the global control
    # group never gets anything.
    held = history[history.is_holdout]
    for run, group in sends.groupby("run_date"):
        assert not set(held[held.run_date == run].customer_key) & set(group.customer_key), run
    assert not set(held[held.holdout_type == "global"].customer_key) & set(sends.customer_key)
    communications = _sim_parts(loop, "marketing/communications")
    orders = _sim_parts(loop, "shop/orders")
    reachable = sends[sends.is_reachable]
    assert sorted(communications.send_id) == sorted(reachable.send_id)
    bought = sends[sends.purchased]
    assert sorted(orders.order_id) == sorted(bought.order_id) and len(orders) > 0
    by_order = bought.set_index("order_id")
    assert (orders.set_index("order_id").customer_id == by_order.customer_id.loc[orders.order_id]).all()
    # Responses follow the planted model: only effective sends (alive, no offer running) buy.
    assert bought.is_effective.all() and bought.is_responsive.all()
    assert (sends[~sends.is_responsive].purchase_probability == 0).all()
    zero = sends[sends.effect_model == "NEWSLETTER"]
    assert len(zero) > 0 and (zero.purchase_probability == 0).all() and not zero.purchased.any()
    steps = json.loads((loop.ledger_path / "steps.json").read_text())
    print(f"\nsteps: {json.dumps(steps, indent=1)}")


def test_the_next_build_sees_the_responses(loop: SimulationConfig) -> None:
    steps = json.loads((loop.ledger_path / "steps.json").read_text())
    orders = _sim_parts(loop, "shop/orders")
    first, second = loop.run_dates
    assert steps[0]["simulated_orders_visible"] == 0
    # The second run's build (as of its date) stages exactly the first step's orders before it.
    cutoff = pd.Timestamp(second, tz="UTC") + pd.Timedelta(days=1)
    due = orders[(orders.file == f"part-sim-{first:%Y%m%d}.parquet") & (orders.ordered_at < cutoff)]
    assert steps[1]["simulated_orders_visible"] == len(due) > 0
    # And the final build sees every simulated order and message, nothing quarantined.
    with duckdb.connect(str(loop.duckdb_path), read_only=True) as con:
        staged = con.execute(
            "select count(*) from staging.stg_shop__orders where order_id like 'OSIM%'"
        ).fetchone()[0]
        messages = con.execute(
            "select count(*) from staging.stg_marketing__communications where send_id like 'SNDSIM%'"
        ).fetchone()[0]
        quarantined = con.execute(
            "select count(*) from audit.audit__quarantine where raw_key like 'OSIM%' or raw_key like 'SNDSIM%'"
        ).fetchone()[0]
    assert staged == len(orders)
    assert messages == len(_sim_parts(loop, "marketing/communications"))
    assert quarantined == 0


def test_spend_changes_rescale_only_future_orders(loop: SimulationConfig) -> None:
    spend = pd.read_parquet(loop.ledger_path / "spend_changes.parquet")
    sends = pd.read_parquet(loop.ledger_path / "sends.parquet").set_index("send_id")
    assert len(spend) > 0
    window = sends.loc[spend.send_id]
    assert np.allclose(spend.factor.to_numpy(), 1.0 + window.spend_change.to_numpy())
    original = pq.read_table(loop.raw_path / "_truth/orders.parquet").to_pandas()
    lines = pq.read_table(loop.raw_path / "shop/order_lines/part-00000.parquet").to_pandas()
    lines["net"] = lines.quantity * lines.unit_price - lines.discount_amount
    net = lines.groupby("order_id").net.sum()
    factor = spend.groupby("order_id").factor.prod()
    base = original.set_index("order_id").net_revenue
    changed = factor.index[factor.index.isin(base.index)]
    assert len(changed) > 0
    # Net of a rescaled order = its generated value x the planted factors, to the rounding of its
    # lines' prices and discounts to cents (at most six lines).
    assert np.allclose(net.loc[changed], base.loc[changed] * factor.loc[changed], rtol=0, atol=0.1)
    untouched = base.index.difference(factor.index)
    assert np.allclose(net.reindex(untouched).dropna(), base.reindex(net.reindex(untouched).dropna().index))


def test_responses_are_deterministic(loop: SimulationConfig, tmp_path: Path) -> None:
    """The first step's sends, replayed on a fresh copy of the world, give byte-identical rows."""
    replay = _config(tmp_path / "replay")
    generate(generator_config(replay))
    population = load_population(replay)
    responder = Responder(replay, population, OrderBook(replay.raw_path, population))
    sends = pd.read_parquet(loop.ledger_path / "sends.parquet")
    first = loop.run_dates[0]
    due = sends[sends.run_date == first.isoformat()]
    keys = (
        due[due.is_reachable]
        .drop_duplicates("customer_key")
        .set_index("customer_key")[["person", "customer_id"]]
    )
    inputs = due[["channel", "customer_key", "treatment_code", "assignment_id", "send_at", "run_date"]].copy()
    inputs["send_at"] = pd.to_datetime(inputs.send_at, utc=True)
    visible = int(pd.Timestamp(first, tz="UTC").timestamp()) + 86_400
    again = responder.respond(inputs, keys, first, 0, visible)
    replayed = due.reset_index(drop=True)
    for column in (
        "send_id",
        "sent_at",
        "is_effective",
        "purchased",
        "purchase_at",
        "purchase_cents",
        "order_id",
    ):
        pd.testing.assert_series_equal(replayed[column], again.sends[column], check_dtype=False, obj=column)
    name = f"part-sim-{first:%Y%m%d}.parquet"
    for folder, table in (("shop/orders", again.orders), ("marketing/communications", again.communications)):
        assert pq.read_table(loop.raw_path / folder / name).equals(table), folder
    shutil.rmtree(tmp_path / "replay")


def test_report_sets_planted_against_measured(loop: SimulationConfig) -> None:
    with duckdb.connect(str(loop.duckdb_path), read_only=True) as con:
        comparison = compare(con, loop)
    table = comparison.table.set_index("treatment_code")
    print("\n" + format_report(comparison.table, loop))
    for column in ("planted_conversion", "planted_revenue", "own_conversion_uplift", "own_revenue_uplift"):
        assert table[column].notna().all(), column
    # The project's measurement counted the same assignments as the comparison did.
    assert "measured_conversion" in table.columns
    assert (table.measured_n_treated == table.n_treated).all()
    assert (table.measured_n_control == table.n_control).all()
    # Planted zero where the model is zero; positive where customers responded.
    zero = table[table.effect_model == "NEWSLETTER"]
    assert (zero.planted_conversion == 0).all() and (zero.planted_revenue == 0).all()
    assert table.loc["WINBACK_10", "planted_conversion"] > 0.02
    # Expected and realized planted effects agree within the draw noise of the incremental purchases.
    treated = comparison.assignments[comparison.assignments.is_treated]
    gap = treated.realized_conversion - treated.planted_conversion
    assert abs(gap.mean()) <= 4 * gap.std() / np.sqrt(len(gap))


def test_treatment_effects_cluster_the_repeated_customers(loop: SimulationConfig) -> None:
    """Two weekly runs assign many customers twice: treatment_effects' clustered figures (design
    effects, effective sizes, test statistics, degrees of freedom, intervals) match the numpy CR1
    sandwich on the same rows, and clustering never makes a zero-effect revenue test significant
    where the independent-assignment test was not."""
    with duckdb.connect(str(loop.duckdb_path), read_only=True) as con:
        effects = con.execute("select * from measurement.treatment_effects").df()
        compared = compared_rows(con)
        zero = compare(con, loop).zero_effect
    gaps, repeated = check_clustered_cells(effects, compared)
    gaps.report(f"treatment_effects, {repeated} cells with repeated customers")
    assert repeated >= 3 and effects[effects.n_customers_treated < effects.n_treated].has_enough_data.any()
    assert (effects.n_customers_treated <= effects.n_treated).all()
    assert zero["treatments"], "the simulation plants zero-effect treatments"
    for scope in ("overall", "all_cells"):
        counts = zero[scope]["revenue"]
        assert counts["significant_clustered"] <= counts["significant_naive"] <= counts["tests"], scope


def test_window_share_integrates_the_truncated_delay() -> None:
    day = 86_400.0
    whole = _window_share(np.array([0]), np.array([30 * day]), np.array([0]), np.array([30 * day]), 7 * day)
    assert whole == pytest.approx([1.0])
    halves = _window_share(
        np.array([0, 0]),
        np.array([30 * day] * 2),
        np.array([0, 10 * day]),
        np.array([10 * day, 40 * day]),
        7 * day,
    )
    assert halves.sum() == pytest.approx(1.0)
    assert halves[0] == pytest.approx((1 - np.exp(-10 / 7)) / (1 - np.exp(-30 / 7)))
    outside = _window_share(
        np.array([0]), np.array([5 * day]), np.array([6 * day]), np.array([9 * day]), 7 * day
    )
    assert outside == pytest.approx([0.0])


def test_channel_tools_send_at_the_window_and_let_a_later_file_replace_a_waiting_message(
    tmp_path: Path,
) -> None:
    """A message still waiting when the next file arrives is rescheduled or withdrawn by it."""
    config = load_config(environ={"CIW_SYNC_EXPORTS_PATH": str(tmp_path)})
    tools = ChannelTools(config)

    def sync(name: str, rows: list[dict]) -> list[SyncResult]:
        path = tmp_path / "email" / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        file = DestinationResult(
            "file", name, "success", len(rows), len(rows), 0, 0, 0, 1, str(path), None, None
        )
        return [SyncResult("email", name, date(2026, 7, 1), len(rows), (file,))]

    def upsert(key: str, code: str, start: str) -> dict:
        return {"op": "upsert", "customer_id": key, "campaign_code": code, "assignment_id": f"{key}{start}",
                "send_after": start}  # fmt: skip

    tools.import_files(
        sync(
            "d1",
            [upsert("A", "WELCOME", "2026-07-02T09:00:00"), upsert("B", "WINBACK_10", "2026-07-05T10:00:00")],
        ),
        "2026-07-01",
    )
    first = tools.send_before(pd.Timestamp("2026-07-03", tz="UTC"))
    assert list(first.customer_key) == ["A"]
    counts = tools.import_files(
        sync(
            "d2",
            [
                {"op": "delete", "customer_id": "B", "campaign_code": "WINBACK_10"},
                upsert("B", "NEWSLETTER", "2026-07-06T08:00:00"),
            ],
        ),
        "2026-07-02",
    )
    assert counts == {"upserts": 1, "deletes": 1}
    rest = tools.send_before(None)
    assert list(zip(rest.customer_key, rest.treatment_code, strict=True)) == [("B", "NEWSLETTER")]
    assert rest.send_at.iloc[0] == pd.Timestamp("2026-07-06 08:00", tz="UTC")
    assert not tools.pending
