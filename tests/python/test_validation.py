"""Great Expectations suites (orchestration/validation/) under the check policy.

Fast tests on tiny DuckDB files written here: narrow real data (one event type) passes or
warns and does not block the Dagster check; shape figures are compared with the previous
run stored in metrics_history.json; a raw table not provided is reported "not provided"
and passes; an integrity failure (a duplicate key) still blocks; a warning is made blocking
through thresholds.yml. Slow tests on a small warehouse built with dbt: the suites pass on
generated data (with every fault kind planted: staging quarantines them), planted bad values
fail the suite that guards them and the verdict names the expectation and what it observed;
tables not built yet are reported as skipped, never as passed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    asset,
    define_asset_job,
)

from orchestration.dbt_cli import PROJECT_DIR, DbtWorkspace
from orchestration.defs.checks import layer_checks, to_check_result
from orchestration.summary import _checks_section
from orchestration.validation import frames
from orchestration.validation.policy import NO_PREVIOUS_RUN, MetricsHistory
from orchestration.validation.runner import (
    FAILED,
    NOT_PROVIDED,
    PASSED,
    SKIPPED,
    WARNED,
    TableResult,
    Validator,
)
from orchestration.validation.settings import DEFAULT_THRESHOLDS, load_thresholds
from orchestration.validation.suite import CRITICAL, LAYER_ORDER, WARNING, TableSuite
from orchestration.validation.suites import all_suites
from orchestration.validation.suites.staging import STAGED_KEYS

ORDERS = "staging.stg_shop__orders"
EVENTS = "staging.stg_web__events"


@pytest.fixture(scope="module")
def warehouse(full_build: DbtWorkspace) -> Path:
    """The session's full build (3,000 customers, every fault kind, every layer): read only.

    Tests that plant bad values do it in a copy (`_copy`).
    """
    return full_build.duckdb_path


def _copy(warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    return copy


def _by_table(results: list[TableResult]) -> dict[str, TableResult]:
    return {result.table: result for result in results}


def _exists(warehouse: Path, table: str) -> bool:
    schema, name = table.split(".")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return bool(
            connection.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchone()[0]
        )


def _suites(*tables: str) -> list[TableSuite]:
    return [suite for suite in all_suites() if suite.table in tables]


def _write_tiny(
    path: Path,
    orders: list[tuple[str, str]],
    events: list[tuple[str, str]],
    provided: dict[str, bool] | None = None,
    quarantined_orders: int = 0,
) -> Path:
    """A warehouse of two staged tables and the staging audit models, as small as a test needs.

    `provided` writes audit.audit__source_tables ({raw table: is_provided}); None leaves
    it out, as in a warehouse built before that audit model existed.
    """
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists staging")
        connection.execute("create schema if not exists audit")
        connection.execute(
            "create or replace table staging.stg_shop__orders (order_id varchar, channel varchar)"
        )
        connection.execute(
            "create or replace table staging.stg_web__events (event_id varchar, event_name varchar)"
        )
        if orders:
            connection.executemany("insert into staging.stg_shop__orders values (?, ?)", orders)
        if events:
            connection.executemany("insert into staging.stg_web__events values (?, ?)", events)
        counts = [
            (
                "shop.orders",
                "stg_shop__orders",
                len(orders) + quarantined_orders,
                len(orders),
                quarantined_orders,
            ),
            ("web.events", "stg_web__events", len(events), len(events), 0),
        ]
        connection.execute(
            "create or replace table audit.audit__row_reconciliation (raw_table varchar, "
            "source_name varchar, table_name varchar, staging_model varchar, raw_rows bigint, "
            "staged_rows bigint, quarantined_rows bigint, is_balanced boolean, quarantine_rate double)"
        )
        for raw_table, model, raw, staged, quarantined in counts:
            source, table = raw_table.split(".")
            connection.execute(
                "insert into audit.audit__row_reconciliation values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    raw_table,
                    source,
                    table,
                    model,
                    raw,
                    staged,
                    quarantined,
                    raw == staged + quarantined,
                    quarantined / raw if raw else None,
                ],
            )
        connection.execute("drop table if exists audit.audit__source_tables")
        if provided is not None:
            connection.execute(
                "create table audit.audit__source_tables (source_name varchar, table_name varchar, "
                "staging_model varchar, is_required boolean, is_provided boolean, files_count integer, "
                "raw_rows bigint)"
            )
            for raw_table, model, raw, _, _ in counts:
                source, table = raw_table.split(".")
                is_provided = provided.get(raw_table, True)
                connection.execute(
                    "insert into audit.audit__source_tables values (?, ?, ?, ?, ?, ?, ?)",
                    [source, table, model, raw_table == "shop.orders", is_provided, int(is_provided), raw],
                )
    return path


def _orders(channels: dict[str, int]) -> list[tuple[str, str]]:
    rows = [channel for channel, count in channels.items() for _ in range(count)]
    return [(f"o{i}", channel) for i, channel in enumerate(rows)]


def _events(names: dict[str, int]) -> list[tuple[str, str]]:
    rows = [name for name, count in names.items() for _ in range(count)]
    return [(f"e{i}", name) for i, name in enumerate(rows)]


def _validate(path: Path, directory: Path, *tables: str) -> dict[str, TableResult]:
    return _by_table(Validator(warehouse=path, directory=directory).run(_suites(*tables)))


def _observed(result: TableResult, frame: str) -> list[str]:
    return [o.observed for o in result.outcomes if o.frame == frame]


def test_suites_are_found_one_module_per_layer_or_mart() -> None:
    suites = all_suites()
    tables = [suite.table for suite in suites]
    print(f"\n{len(suites)} table suites: {tables}")
    assert len(tables) == len(set(tables))
    assert {suite.layer for suite in suites} <= set(LAYER_ORDER)
    # Pipeline order, so a layer's checks are listed (and run by the CLI) before the next layer's.
    ranks = [LAYER_ORDER.index(suite.layer) for suite in suites]
    assert ranks == sorted(ranks)
    assert {"staging.stg_shop__orders", "customer_360.customer_360", "marts.customer_value"} <= set(tables)
    assert {"marts.customer_needs", "marts.customer_lifecycle"} <= set(tables)


def test_staged_keys_are_the_models_primary_keys() -> None:
    """The keys the staging suites hold unique are the columns the models' YAML tests unique + not null."""
    declared: dict[str, tuple[str, ...]] = {}
    for path in sorted((PROJECT_DIR / "models" / "staging").rglob("_*__models.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            for column in model.get("columns") or []:
                tests = [t if isinstance(t, str) else next(iter(t)) for t in column.get("data_tests") or []]
                if {"unique", "not_null"} <= set(tests):
                    declared[f"staging.{model['name']}"] = (column["name"],)
    for table, keys in STAGED_KEYS.items():
        assert declared.get(table) == keys, (table, keys, declared.get(table))
    for suite in _suites(*STAGED_KEYS):
        assert suite.keys == STAGED_KEYS[suite.table]


def test_narrow_data_passes_and_a_moved_mix_only_warns(tmp_path: Path) -> None:
    """One sales channel and one web event type: the old fixed ceiling (no value above 90 %) failed
    both critically and stopped the build. Now the first run passes with nothing to compare; when
    the mix later moves, the staged table warns (WARN: the Dagster check blocks nothing)."""
    path = tmp_path / "warehouse.duckdb"
    directory = tmp_path / "validation"
    _write_tiny(path, _orders({"web": 40}), _events({"page_view": 50}))
    first = _validate(path, directory, ORDERS, EVENTS)
    for table in (ORDERS, EVENTS):
        print(f"\n{table}: {first[table].status}: {first[table].message}")
        assert first[table].status == PASSED
        assert NO_PREVIOUS_RUN in first[table].message
    assert NO_PREVIOUS_RUN in _observed(first[EVENTS], "event_name_shares_drift")

    # The next run: half the orders now come from stores, the site tracks a second event type.
    _write_tiny(path, _orders({"web": 20, "store": 20}), _events({"page_view": 25, "add_to_cart": 25}))
    moved = _validate(path, directory, ORDERS, EVENTS)
    orders = moved[ORDERS]
    print(f"{ORDERS}: {orders.status}: {orders.message}")
    assert orders.status == WARNED
    assert not orders.critical_failures
    assert [o.frame for o in orders.warnings] == ["channel_shares_drift"]
    assert "channel_shares.share[web] 1 -> 0.5" in orders.message
    assert "channel_shares.share[store] 0 -> 0.5" in orders.message  # a new channel was 0 before
    check = to_check_result(orders, "data_docs/index.html")
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert moved[EVENTS].status == WARNED


def test_drift_compares_with_the_previous_run_stored_in_the_metrics_history(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    directory = tmp_path / "validation"
    _write_tiny(path, _orders({"web": 30, "app": 10}), _events({"page_view": 5}))
    first = _validate(path, directory, ORDERS)[ORDERS]
    assert first.previous_row_count is None
    stored = json.loads((directory / MetricsHistory.FILE).read_text())
    print(f"\nstored figures: {stored[ORDERS][-1]['metrics']}")
    assert stored[ORDERS][-1]["metrics"] == {
        "volume.row_count": 40,
        "quarantine.quarantine_rate": 0.0,
        "channel_shares.share[app]": 0.25,
        "channel_shares.share[web]": 0.75,
    }

    same = _validate(path, directory, ORDERS)[ORDERS]
    assert same.status == PASSED and same.previous_row_count == 40
    assert "40 -> 40 (previous run -> this run)" in _observed(same, "volume_drift")

    # What is compared is the stored file: a person (or yesterday's run) recorded other figures.
    stored = json.loads((directory / MetricsHistory.FILE).read_text())
    stored[ORDERS][-1]["metrics"].update(
        {
            "volume.row_count": 130,
            "channel_shares.share[web]": 0.6,
            "channel_shares.share[app]": 0.25,
            "channel_shares.share[store]": 0.15,
        }
    )
    (directory / MetricsHistory.FILE).write_text(json.dumps(stored))
    drifted = _validate(path, directory, ORDERS)[ORDERS]
    print(f"{drifted.status}: {drifted.message}")
    assert drifted.status == WARNED and not drifted.critical_failures
    assert drifted.previous_row_count == 130
    assert "volume.row_count 130 -> 40" in drifted.message  # a factor of 3.25 > 2
    assert "channel_shares.share[web] 0.6 -> 0.75" in drifted.message  # 15 points > 10
    assert "channel_shares.share[store] 0.15 -> 0" in drifted.message  # gone since the last run
    assert "share[app]" not in drifted.message  # unchanged
    # The warned run was recorded as the next reference, and the history stays bounded.
    history = json.loads((directory / MetricsHistory.FILE).read_text())[ORDERS]
    assert len(history) == 3 and history[-1]["metrics"]["volume.row_count"] == 40
    bounded = MetricsHistory(directory, keep_runs=10)
    for _ in range(12):
        bounded.record(ORDERS, {"volume.row_count": 1})
    bounded.save()
    assert len(json.loads((directory / MetricsHistory.FILE).read_text())[ORDERS]) == 10


def test_row_counts_of_the_older_history_file_are_taken_over(tmp_path: Path) -> None:
    directory = tmp_path / "validation"
    directory.mkdir()
    (directory / "row_counts.json").write_text(json.dumps({ORDERS: {"row_count": 500, "recorded_at": "x"}}))
    path = _write_tiny(tmp_path / "warehouse.duckdb", _orders({"web": 40}), [])
    result = _validate(path, directory, ORDERS)[ORDERS]
    assert result.previous_row_count == 500
    assert result.status == WARNED and "volume.row_count 500 -> 40" in result.message


def test_a_table_not_provided_is_reported_as_such_and_passes(tmp_path: Path) -> None:
    """A shop without web tracking: staged events are empty. Their volume and shape checks do not
    run (an empty table would warn, a collapsed mix would have failed); integrity still runs."""
    path = tmp_path / "warehouse.duckdb"
    directory = tmp_path / "validation"
    _write_tiny(path, _orders({"web": 40}), [], provided={"web.events": False})
    results = _validate(path, directory, ORDERS, EVENTS)
    events = results[EVENTS]
    print(f"\n{EVENTS}: {events.status}: {events.message}")
    assert events.status == NOT_PROVIDED and events.passed and not events.provided
    assert events.message.startswith("not provided")
    ran = {o.frame for o in events.outcomes}
    assert {"source", "keys", "reconciliation"} <= ran
    assert not ran & {"volume", "quarantine", "event_name_shares", "volume_drift"}
    assert events.row_count is None
    check = to_check_result(events, "data_docs/index.html")
    assert check.passed and check.description.startswith("not provided")
    assert results[ORDERS].status == PASSED and results[ORDERS].provided
    # Nothing measured, nothing recorded: the first run with web data will be a first run.
    assert EVENTS not in json.loads((directory / MetricsHistory.FILE).read_text())
    # People see it: in the Data Docs (the `source` frame) and in the summary.
    pages = "".join(page.read_text() for page in (directory / "data_docs").rglob("*.html"))
    assert "Not provided: raw web.events is optional and absent" in pages
    assert EVENTS in _checks_section(None, directory)
    assert "not provided" in _checks_section(None, directory)

    # An older warehouse without the audit model: every table counts as provided. The empty table
    # now warns (its volume) and still blocks nothing.
    _write_tiny(path, _orders({"web": 40}), [], provided=None)
    older = _validate(path, tmp_path / "older", EVENTS)[EVENTS]
    print(f"without the audit model: {older.status}: {older.message}")
    assert older.status == WARNED and older.provided
    assert [o.frame for o in older.warnings] == ["volume"]


def test_a_duplicate_key_still_blocks(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    orders = _orders({"web": 30, "app": 10})
    _write_tiny(path, [*orders, orders[0]], _events({"page_view": 5}))
    result = _validate(path, tmp_path / "validation", ORDERS)[ORDERS]
    print(f"\n{result.status}: {result.message}")
    assert result.status == FAILED
    assert [(o.expectation, o.observed) for o in result.critical_failures] == [
        ("expect_column_values_to_be_between(duplicate_order_id: max_value=0.0)", "1")
    ]
    check = to_check_result(result, "data_docs/index.html")
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    # The figures of a run that failed an integrity check are not the next run's reference.
    assert not (tmp_path / "validation" / MetricsHistory.FILE).exists() or ORDERS not in json.loads(
        (tmp_path / "validation" / MetricsHistory.FILE).read_text()
    )


def test_in_dagster_a_warning_blocks_nothing_and_an_integrity_failure_blocks_downstream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layer's blocking check op in a small Dagster job. Narrow data whose mix moved warns and
    the assets downstream are built; a duplicate key fails with ERROR and the check step fails, so
    nothing downstream of the layer is built (one check op per layer: any ERROR stops the layer)."""
    path = tmp_path / "warehouse.duckdb"
    directory = tmp_path / "validation"
    _write_tiny(path, _orders({"web": 40}), _events({"page_view": 50}))
    _validate(path, directory, ORDERS, EVENTS)  # yesterday's figures
    monkeypatch.setenv("CIW_DUCKDB_PATH", str(path))
    monkeypatch.setenv("CIW_VALIDATION_PATH", str(directory))
    monkeypatch.delenv("CIW_VALIDATION_THRESHOLDS", raising=False)
    orders_key, events_key = AssetKey(ORDERS.split(".")), AssetKey(EVENTS.split("."))

    @asset(key=orders_key)
    def staged_orders() -> None: ...

    @asset(key=events_key)
    def staged_events() -> None: ...

    @asset(deps=[orders_key, events_key])
    def downstream() -> None: ...

    checks = layer_checks("staging", _suites(ORDERS, EVENTS), {orders_key, events_key})
    job = Definitions(
        assets=[staged_orders, staged_events, downstream],
        asset_checks=[checks],
        jobs=[define_asset_job("staging_and_after", AssetSelection.all())],
    ).resolve_job_def("staging_and_after")

    def run() -> tuple[bool, dict[AssetKey, Any], set[AssetKey]]:
        result = job.execute_in_process(instance=DagsterInstance.ephemeral(), raise_on_error=False)
        evaluations = {e.asset_key: e for e in result.get_asset_check_evaluations()}
        for key, e in evaluations.items():
            print(f"\n{key.to_user_string()}: passed={e.passed} {e.severity}: {e.description}")
        return result.success, evaluations, {e.asset_key for e in result.get_asset_materialization_events()}

    # The site now tracks a second event type: the mix moved 80 points, a warning.
    _write_tiny(path, _orders({"web": 40}), _events({"page_view": 10, "add_to_cart": 40}))
    success, evaluations, materialised = run()
    assert not evaluations[events_key].passed and evaluations[events_key].severity == AssetCheckSeverity.WARN
    assert evaluations[orders_key].passed
    assert success and AssetKey("downstream") in materialised

    orders = _orders({"web": 40})
    _write_tiny(path, [*orders, orders[0]], _events({"page_view": 10, "add_to_cart": 40}))
    success, evaluations, materialised = run()
    assert not evaluations[orders_key].passed and evaluations[orders_key].severity == AssetCheckSeverity.ERROR
    assert "duplicate_order_id" in evaluations[orders_key].description
    assert not success and AssetKey("downstream") not in materialised


def test_thresholds_file_makes_a_warning_blocking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One editable file (CIW_VALIDATION_THRESHOLDS): a quarantine share over its ceiling warns;
    listed under policy.blocking (production) it blocks; under policy.off it does not run."""
    thresholds = yaml.safe_load(DEFAULT_THRESHOLDS.read_text())
    assert thresholds == load_thresholds()
    assert thresholds["policy"]["shape_severity"] == WARNING
    path = _write_tiny(tmp_path / "warehouse.duckdb", _orders({"web": 30}), [], quarantined_orders=20)
    edited = tmp_path / "thresholds.yml"
    monkeypatch.setenv("CIW_VALIDATION_THRESHOLDS", str(edited))

    def run(name: str) -> TableResult:
        edited.write_text(yaml.safe_dump(thresholds))
        result = _validate(path, tmp_path / name, ORDERS)[ORDERS]
        print(f"\n{name}: {result.status}: {result.message}")
        return result

    default = run("default")
    assert default.status == WARNED  # 40 % quarantined, ceiling 25 %
    # Every outcome carries the name the policy takes (shown in the Dagster check's metadata).
    assert [o.check for o in default.warnings] == ["staging.stg_shop__orders:quarantine.quarantine_rate"]
    assert "`staging.stg_shop__orders:quarantine.quarantine_rate`" in str(
        to_check_result(default, "data_docs/index.html").metadata["failed_expectations"]
    )
    thresholds["policy"]["blocking"] = [default.warnings[0].check]
    blocked = run("blocking")
    assert blocked.status == FAILED
    assert [o.frame for o in blocked.critical_failures] == ["quarantine"]
    assert blocked.critical_failures[0].severity == CRITICAL
    thresholds["policy"]["blocking"] = []
    thresholds["policy"]["shape_severity"] = CRITICAL
    assert run("every_shape_blocks").status == FAILED
    thresholds["policy"]["shape_severity"] = WARNING
    thresholds["policy"]["off"] = ["staging.*:quarantine.*"]
    assert run("off").status == PASSED


@pytest.mark.slow
def test_suites_pass_on_a_small_built_warehouse(warehouse: Path, tmp_path: Path) -> None:
    validator = Validator(warehouse=warehouse, directory=tmp_path / "validation")
    results = validator.run(all_suites())
    for result in results:
        print(f"{result.status:12} {result.table:40} rows={result.row_count}  {result.message}")
    by_table = _by_table(results)
    built = [r for r in results if r.status != SKIPPED]
    assert not [r.table for r in results if r.status == FAILED], [
        r.message for r in results if r.status == FAILED
    ]
    # A first run has nothing to compare with: no warning at all on generated data.
    assert not [r.table for r in results if r.status == WARNED], [
        r.message for r in results if r.status == WARNED
    ]
    assert by_table["staging.stg_shop__orders"].status == PASSED
    assert by_table["customer_360.customer_360"].status == PASSED
    for result in results:
        if result.status == SKIPPED:
            assert not _exists(warehouse, result.table)
            assert result.message.startswith("table not built"), result.message
        elif result.status == NOT_PROVIDED:
            assert result.message.startswith("not provided"), result.message
        else:
            assert result.row_count and result.row_count > 0
    assert len(built) >= 14  # 12 staged tables, customer_360, identity_components
    assert validator.data_docs.exists()
    stored = json.loads((tmp_path / "validation" / "results.json").read_text())
    assert set(stored["tables"]) == set(by_table)
    # A second run on the same warehouse compares every figure with the first and finds no move.
    again = Validator(warehouse=warehouse, directory=tmp_path / "validation").run(all_suites())
    assert all(r.status in (PASSED, SKIPPED, NOT_PROVIDED) for r in again), [r.message for r in again]


@pytest.mark.slow
def test_planted_bad_values_fail_the_suite_that_guards_them(warehouse: Path, tmp_path: Path) -> None:
    """Integrity faults planted in a copy block: P(alive) outside [0, 1], negative CLV, customers
    without a persona, a lifecycle stage the seed does not know, a treatment sent without consent,
    held-out rows treated. Shape faults only warn: collapsed needs segments (against a previous
    run that had a mix), a quarantine share over its ceiling."""
    copy = _copy(warehouse, tmp_path)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("create schema if not exists marts")
        keys = "select customer_key, row_number() over (order by customer_key) as n from customer_360.customer_360"
        connection.execute(
            f"""create or replace table marts.customer_value as
            select customer_key, 1 as orders,
                   case when n % 10 = 0 then 1.2 else 0.5 end as p_alive,
                   case when n % 25 = 0 then -10.0 else 100.0 end as predicted_clv,
                   case when n % 5 = 0 then 'top' else 'low' end as value_tier,
                   case when n % 5 = 0 then 1 else 4 end as value_tier_rank
            from ({keys})"""
        )
        connection.execute(
            f"""create or replace table marts.customer_needs as
            select customer_key, case when n % 20 = 0 then 0 else 1 end as needs_segment_id,
                   case when n % 50 = 0 then null else 'Persona' end as persona_name
            from ({keys})"""
        )
        connection.execute("create schema if not exists reference")
        connection.execute(
            "create or replace table reference.lifecycle_stages as "
            "select * from (values ('new'), ('active'), ('lapsed')) as stages(lifecycle_stage)"
        )
        connection.execute(
            f"""create or replace table marts.customer_lifecycle as
            select customer_key, case when n % 3 = 0 then 'active' when n % 3 = 1 then 'lapsed'
                   else 'sleeping' end as lifecycle_stage
            from ({keys})"""
        )
        connection.execute(
            "update audit.audit__row_reconciliation set quarantine_rate = 0.6 where raw_table = 'shop.orders'"
        )
        # Treatments: every 7th row would be sent by phone, whatever the customer consented to,
        # and every 11th is in the global control group yet not held out (leakage).
        connection.execute("create schema if not exists activation")
        connection.execute(
            f"""create or replace table activation.customer_treatments as
            select 'a' || n as assignment_id, customer_key, 'NEWSLETTER' as treatment_code,
                   case when n % 7 = 0 then 'phone' else 'email' end as channel,
                   false as is_holdout,
                   case when n % 11 = 0 then 'global' end as holdout_type
            from ({keys}) join customer_360.customer_360 using (customer_key)
            where has_email_consent and not has_phone_consent"""
        )

    results = _by_table(Validator(warehouse=copy, directory=tmp_path / "validation").run(all_suites()))
    expected = {
        "marts.customer_value": ["p_alive_out_of_range", "negative_predicted_clv", "p_alive"],
        "marts.customer_needs": ["missing_persona_names"],
        "marts.customer_lifecycle": ["expect_column_values_to_be_in_set(lifecycle_stage"],
        "activation.customer_treatments": ["sent_without_consent", "holdout_mismatch"],
    }
    for table, names in expected.items():
        result = results[table]
        print(f"\n{table}: {result.message}")
        assert result.status == FAILED
        failed = " | ".join(f"{o.expectation} -> {o.observed}" for o in result.critical_failures)
        for name in names:
            assert name in failed, (name, failed)
    value_failures = {
        o.expectation.split("(")[1].split(":")[0]: o.observed
        for o in results["marts.customer_value"].critical_failures
    }
    rows = results["marts.customer_value"].row_count
    # Exact aggregates, not a sample: every 10th row has P(alive) 1.2, every 25th a negative CLV.
    assert value_failures["p_alive_out_of_range"] == str(rows // 10)
    assert value_failures["negative_predicted_clv"] == str(rows // 25)
    assert "sleeping" in " ".join(o.observed for o in results["marts.customer_lifecycle"].critical_failures)
    # A shape fault warns and blocks nothing: 60 % of the orders quarantined (ceiling 25 %).
    orders = results["staging.stg_shop__orders"]
    print(f"\nstaging.stg_shop__orders: {orders.message}")
    assert orders.status == WARNED and not orders.critical_failures
    assert "quarantine_rate" in orders.message
    # Untouched tables still pass.
    assert results["customer_360.customer_360"].status == PASSED


@pytest.mark.slow
def test_large_tables_are_read_as_capped_deterministic_samples(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        total = connection.execute("select count(*) from customer_360.customer_360").fetchone()[0]
        query = frames.sample(
            "customer_360.customer_360", ["customer_key", "tenure_days"], "customer_key", 50
        )
        first = connection.execute(query).df()
        second = connection.execute(query).df()
    print(f"\nsample of {len(first)} of {total} customers, columns {list(first.columns)}")
    assert len(first) == 50 < total
    assert list(first.columns) == ["customer_key", "tenure_days"]  # projection: only what is checked
    assert first.equals(second)  # the same data gives the same sample
