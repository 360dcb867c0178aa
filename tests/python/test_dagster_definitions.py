"""The Dagster definitions: they load, group assets by layer, run the whole graph
headless with every dbt test and Great Expectations suite passing as asset checks,
stop every later layer when a blocking check fails, and the schedule and the
raw-files sensor decide as they should."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from orchestration.definitions import daily_warehouse_build, defs, gx_checks, raw_files_sensor
from orchestration.defs.checks import CHECK_NAME
from orchestration.defs.dbt.assets import warehouse_dbt_assets
from orchestration.defs.dbt.project import warehouse_project
from orchestration.defs.syncs import sync_assets
from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.validation.settings import DEFAULT_THRESHOLDS
from orchestration.validation.suites import all_suites


def test_definitions_load_and_group_assets_by_layer() -> None:
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    groups = Counter(graph.get(key).group_name for key in graph.get_all_asset_keys())
    assert {"raw", "reference", "staging", "audit", "intermediate", "customer_360"} <= set(groups)
    # The generator's raw tables are the upstream of the dbt sources they feed.
    staging_orders = graph.get(AssetKey(["staging", "base_shop__orders_parsed"]))
    assert AssetKey(["raw", "shop", "orders"]) in staging_orders.parent_keys
    assert len(list(graph.asset_check_keys)) > 100  # the dbt tests, as asset checks
    # The learning loop closes across builds, not inside the graph: activation reads the
    # previous build's scores through an external asset of their own, and the graph has no cycle.
    previous_scores = AssetKey(["previous_build", "uplift_scores"])
    assert not graph.get(previous_scores).is_materializable
    # (through the ephemeral stg_previous_build__uplift_scores, which is no asset of its own)
    assert (
        previous_scores in graph.get(AssetKey(["intermediate", "int_activation__model_scores"])).parent_keys
    )
    assert graph.toposorted_asset_keys  # raises on a cycle


def test_each_layer_is_one_dbt_step_followed_by_its_blocking_gx_checks() -> None:
    steps = [assets.op.name for assets in warehouse_dbt_assets]
    print(f"\ndbt steps: {steps}; GX check steps: {[c.node_def.name for c in gx_checks]}")
    assert steps[:2] == ["dbt_staging", "dbt_customer_360"]
    graph = defs.resolve_asset_graph()
    # Every suite whose table the project builds is a blocking check on that table's dbt asset.
    built = [suite for suite in all_suites() if graph.has(AssetKey(suite.asset_key_path))]
    specs = [spec for checks in gx_checks for spec in checks.check_specs]
    assert {spec.key for spec in specs} == {
        AssetCheckKey(AssetKey(suite.asset_key_path), CHECK_NAME) for suite in built
    }
    assert all(spec.blocking for spec in specs)
    assert AssetCheckKey(AssetKey(["customer_360", "customer_360"]), CHECK_NAME) in graph.asset_check_keys
    # dbt tests of severity error are blocking checks too (dagster-dbt); `warn` ones only report.
    manifest = json.loads(warehouse_project.manifest_path.read_text())["nodes"]
    dbt_specs = [spec for assets in warehouse_dbt_assets for spec in assets.check_specs]
    assert len(dbt_specs) > 100
    for spec in dbt_specs:
        severity = manifest[spec.metadata["dagster_dbt/unique_id"]]["config"]["severity"].lower()
        assert spec.blocking == (severity == "error"), spec.name
    # A layer's staging models and the 360 are built by different steps.
    step_of = {key: assets.op.name for assets in warehouse_dbt_assets for key in assets.keys}
    assert step_of[AssetKey(["staging", "stg_shop__orders"])] == "dbt_staging"
    # The audit models the staging checks read are built by the staging step.
    assert step_of[AssetKey(["audit", "audit__row_reconciliation"])] == "dbt_staging"
    assert step_of[AssetKey(["customer_360", "customer_360"])] == "dbt_customer_360"


@pytest.mark.slow
def test_demo_job_materialises_every_layer_with_all_checks_passing(experiment_demo) -> None:
    """`make demo SHAPE=experiment`, headless (the shared session run of conftest.py)."""
    result, report, tmp_path = experiment_demo.result, experiment_demo.report, experiment_demo.root
    print("\n" + experiment_demo.summary)
    assert result.success
    materialised = {event.asset_key for event in result.get_asset_materialization_events()}
    assert AssetKey(["customer_360", "customer_360"]) in materialised
    assert AssetKey(["raw", "web", "events"]) in materialised
    # The syncs ran after activation and delivered files.
    assert {key for assets in sync_assets for key in assets.keys} <= materialised
    assert any((tmp_path / "exports").rglob("*.*"))
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 100
    # Every dbt test passes; a GX warning (e.g. a small sample missing a lifecycle stage) is allowed.
    failed = [
        c.asset_check_key
        for c in checks
        if not c.passed and (c.check_name != CHECK_NAME or c.severity == AssetCheckSeverity.ERROR)
    ]
    assert not failed, failed
    # Every GX check ran, after its layer's dbt step, and left Data Docs a person can open.
    gx = {c.asset_check_key for c in checks if c.check_name == CHECK_NAME}
    assert gx == {spec.key for checks_def in gx_checks for spec in checks_def.check_specs}
    assert (tmp_path / "validation" / "data_docs" / "index.html").exists()
    assert report.success and report.gx_failed == 0 and report.dbt_tests_failed == 0
    assert report.checks_not_run == 0
    assert report.assets_materialized == report.assets_planned


# Corruptions of raw data that staging accepts row by row but a layer's GX suite must stop:
# (raw folder, SQL over its rows, the check that must fail, the checks production makes blocking).
# Under the check policy (orchestration/validation/thresholds.yml) a quarantine share is a shape
# check that warns; a production deployment lists it under policy.blocking, as these runs do.
CORRUPTIONS = {
    # A broken export: half the orders carry an unreadable timestamp, so staging quarantines
    # them (the staging invariant still holds, every dbt test passes): the quarantine share fails.
    "unreadable_order_timestamps": (
        "shop/orders",
        "select * replace (case when hash(order_id) % 2 = 0 then 'not a timestamp' else ordered_at end"
        " as ordered_at) from rows",
        AssetCheckKey(AssetKey(["staging", "stg_shop__orders"]), CHECK_NAME),
        ["staging.*:quarantine.quarantine_rate"],
    ),
}


def _corrupt(raw: Path, folder: str, sql: str) -> None:
    """Rewrite one raw table's files as a single file of `sql` over its rows."""
    files = sorted((raw / folder).glob("*.parquet"))
    connection = duckdb.connect()
    paths = ", ".join(f"'{f}'" for f in files)
    connection.execute(f"create view rows as select * from read_parquet([{paths}], union_by_name = true)")
    corrupted = raw / folder.replace("/", "_")
    connection.sql(sql).write_parquet(str(corrupted))
    connection.close()
    for file in files:
        file.unlink()
    corrupted.rename(raw / folder / "part-00000.parquet")


def _downstream(graph, key: AssetKey) -> set[AssetKey]:
    found: set[AssetKey] = set()
    frontier = [key]
    while frontier:
        for child in graph.get(frontier.pop()).child_keys:
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_failed_blocking_check_stops_every_later_layer(
    corruption: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Corrupt raw data, run the daily job headless: the layer's GX check fails and names what
    it saw, and nothing downstream of the checked table outside its own dbt step is
    materialised (later layers and the reverse-ETL syncs)."""
    folder, sql, failing_check, blocking = CORRUPTIONS[corruption]
    raw = tmp_path / "raw"
    generate(GeneratorConfig(customers=200, seed=3, out=raw, faults=True))
    _corrupt(raw, folder, sql)
    thresholds = yaml.safe_load(DEFAULT_THRESHOLDS.read_text())
    thresholds["policy"]["blocking"] = blocking
    (tmp_path / "thresholds.yml").write_text(yaml.safe_dump(thresholds))
    monkeypatch.setenv("CIW_VALIDATION_THRESHOLDS", str(tmp_path / "thresholds.yml"))
    monkeypatch.setenv("CIW_RAW_DATA_PATH", str(raw))
    monkeypatch.setenv("CIW_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.delenv("CIW_VALIDATION_PATH", raising=False)
    monkeypatch.setenv("CIW_SYNC_EXPORTS_PATH", str(tmp_path / "exports"))

    result = defs.resolve_job_def("warehouse_build").execute_in_process(
        instance=DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success

    evaluations = {e.asset_check_key: e for e in result.get_asset_check_evaluations()}
    failed = evaluations[failing_check]
    print(f"\n{failing_check.to_user_string()}: {failed.description}")
    assert not failed.passed and failed.severity == AssetCheckSeverity.ERROR
    # Nothing else failed outside this layer's GX step (the dbt tests passed: staging did its job).
    errors = [k for k, e in evaluations.items() if not e.passed and e.severity == AssetCheckSeverity.ERROR]
    print(f"failed checks: {[k.to_user_string() for k in errors]}")
    assert {k.name for k in errors} == {CHECK_NAME}
    assert {k.asset_key.path[0] for k in errors} == {failing_check.asset_key.path[0]}

    # The failure names the check, in the step failure Dagster records.
    failures = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert [e.step_key for e in failures] == [f"gx_{failing_check.asset_key.path[0]}"]
    assert (
        f"{failing_check.asset_key.to_user_string()}: {CHECK_NAME}"
        in failures[0].event_specific_data.error.message
    )

    graph = defs.resolve_job_def("warehouse_build").asset_layer.asset_graph
    steps = [assets.op.name for assets in warehouse_dbt_assets]
    step = next(a.op.name for a in warehouse_dbt_assets if failing_check.asset_key in a.keys)
    later_steps = steps[steps.index(step) + 1 :]
    same_step = next(a for a in warehouse_dbt_assets if a.op.name == step).keys
    blocked = _downstream(graph, failing_check.asset_key) - set(same_step)
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    started = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}
    print(f"not materialised downstream: {len(blocked)} assets; later dbt steps not started: {later_steps}")
    assert blocked.isdisjoint(materialised)
    # Above all, no treatment reached a channel: the sync assets are downstream and did not run.
    syncs = {key for assets in sync_assets for key in assets.keys}
    assert syncs <= blocked
    assert not any((tmp_path / "exports").rglob("*.*"))
    # No later layer's dbt step even started.
    assert started.isdisjoint(later_steps)
    if not later_steps:
        pytest.skip(f"no layer after {step} yet: nothing downstream to stop")
    assert blocked


def test_daily_schedule_builds_the_warehouse() -> None:
    requests = list(daily_warehouse_build.evaluate_tick(build_schedule_context()).run_requests or [])
    assert len(requests) == 1
    assert daily_warehouse_build.job_name == "warehouse_build"
    assert daily_warehouse_build.cron_schedule == "0 5 * * *"


def test_sensor_requests_one_build_per_new_state_of_the_raw_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIW_RAW_DATA_PATH", str(tmp_path))
    empty = raw_files_sensor(build_sensor_context())
    assert isinstance(empty, SkipReason)

    orders = tmp_path / "shop" / "orders"
    orders.mkdir(parents=True)
    (orders / "part-00000.parquet").write_bytes(b"x")
    (tmp_path / "_truth").mkdir()
    first = raw_files_sensor(build_sensor_context())
    assert isinstance(first.run_requests[0], RunRequest)

    unchanged = raw_files_sensor(build_sensor_context(cursor=first.cursor))
    assert isinstance(unchanged, SkipReason)

    (orders / "part-00001-late.parquet").write_bytes(b"late")
    arrived = raw_files_sensor(build_sensor_context(cursor=first.cursor))
    assert arrived.run_requests[0].run_key != first.run_requests[0].run_key
    # Truth files are not raw data: writing them requests nothing.
    (tmp_path / "_truth" / "x").mkdir()
    (tmp_path / "_truth" / "x" / "persons.parquet").write_bytes(b"t")
    assert isinstance(raw_files_sensor(build_sensor_context(cursor=arrived.cursor)), SkipReason)
    assert os.environ["CIW_RAW_DATA_PATH"] == str(tmp_path)
