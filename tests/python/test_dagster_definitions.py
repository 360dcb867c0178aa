"""The Dagster definitions: they load, group assets by layer, run the whole graph
headless with every dbt test passing as an asset check, and the schedule and the
raw-files sensor decide as they should."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    Definitions,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from orchestration.definitions import daily_warehouse_build, defs, raw_files_sensor


def test_definitions_load_and_group_assets_by_layer() -> None:
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    groups = Counter(graph.get(key).group_name for key in graph.get_all_asset_keys())
    assert {"raw", "reference", "staging", "intermediate", "customer_360"} <= set(groups)
    # The generator's raw tables are the upstream of the dbt sources they feed.
    staging_orders = graph.get(AssetKey(["staging", "base_shop__orders"]))
    assert AssetKey(["raw", "shop", "orders"]) in staging_orders.parent_keys
    assert len(list(graph.asset_check_keys)) > 100  # the dbt tests, as asset checks


@pytest.mark.slow
def test_demo_job_materialises_every_layer_with_all_checks_passing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIW_RAW_DATA_PATH", str(tmp_path / "raw"))
    monkeypatch.setenv("CIW_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    result = defs.resolve_job_def("demo").execute_in_process(
        run_config={"ops": {"sample_data": {"config": {"customers": 200, "seed": 3, "faults": True}}}},
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    materialised = {event.asset_key for event in result.get_asset_materialization_events()}
    assert AssetKey(["customer_360", "customer_360"]) in materialised
    assert AssetKey(["raw", "web", "events"]) in materialised
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 100
    failed = [c.asset_check_key for c in checks if not c.passed]
    assert not failed, failed


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
