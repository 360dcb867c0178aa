"""The benchmark's figures (orchestration/devtools/bench.py): the raw-scan floor reads every raw
row, the as-of date matches the warehouse's default, and the ratios and table report what the
builds measured."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_cli import DbtWorkspace
from orchestration.devtools.bench import (
    format_scale_table,
    latest_order_date,
    node_seconds,
    raw_files,
    raw_scan_floor,
    scale_summary,
    warehouse_used_mb,
)


def _write(folder: Path, rows: str) -> None:
    folder.mkdir(parents=True)
    duckdb.execute(f"copy ({rows}) to '{folder / 'part-00000.parquet'}' (format parquet)")


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    _write(
        tmp_path / "shop" / "orders",
        "select 'O1' as order_id, '2026-03-01 10:00:00' as ordered_at union all "
        "select 'O2', '2026-03-04 23:00:00+00' union all select 'O3', '2999-01-01 00:00:00' union all "
        "select 'O4', 'not a date'",
    )
    _write(tmp_path / "web" / "events", "select range as event_id from range(1000)")
    _write(tmp_path / "_truth", "select 1 as planted")
    return tmp_path


def test_floor_reads_every_raw_row_and_skips_the_truth(raw: Path) -> None:
    assert raw_scan_floor(raw, "parquet")["rows"] == 1004
    assert all("_truth" not in str(path) for path in raw_files(raw, "parquet"))
    assert len(raw_files(raw, "parquet")) == 2


def test_latest_order_date_ignores_the_future_and_unparseable_dates(raw: Path) -> None:
    assert latest_order_date(raw, "parquet").isoformat() == "2026-03-04"


def test_ratios_and_table() -> None:
    floor = {"elapsed_seconds": 0.5, "rows": 10}
    first = {
        "as_of": "2026-03-03", "elapsed_seconds": 100.0, "peak_rss_mb": 900.0, "warehouse_mb": 20.0,
        "warehouse_used_mb": 14.0, "succeeded": True, "log": "first.log",
    }  # fmt: skip
    next_day = dict(first, as_of="2026-03-04", elapsed_seconds=10.0, peak_rss_mb=950.0, warehouse_mb=21.0)
    summary = scale_summary(floor, first, next_day, raw_mb=7.0)
    assert summary["first_over_floor"] == 200.0
    assert summary["next_day_over_first"] == 0.1
    assert summary["warehouse_over_raw_next_day"] == 3.0
    assert summary["warehouse_used_over_raw_next_day"] == 2.0
    assert summary["peak_rss_mb"] == 950.0
    table = format_scale_table(floor, first, next_day, summary)
    assert "raw-scan floor" in table and "next day's build" in table and "2026-03-04" in table
    failed = format_scale_table(floor, first, dict(next_day, succeeded=False), summary)
    assert "FAILED (see first.log)" in failed
    assert summary["graph_floor_over_first"] is None and "graph floor" not in table


def test_graph_floor_bounds_the_next_days_ratio() -> None:
    floor = {"elapsed_seconds": 0.5, "rows": 10}
    first = {
        "as_of": "2026-03-03", "elapsed_seconds": 400.0, "peak_rss_mb": 900.0, "warehouse_mb": 20.0,
        "warehouse_used_mb": 14.0, "succeeded": True, "log": "first.log",
    }  # fmt: skip
    next_day = dict(first, as_of="2026-03-04", elapsed_seconds=200.0)
    graph = {
        "customers": 300,
        "first_build": dict(first, elapsed_seconds=110.0),
        "next_day_build": dict(first, as_of="2026-03-04", elapsed_seconds=100.0),
    }
    summary = scale_summary(floor, first, next_day, raw_mb=7.0, graph=graph)
    assert summary["graph_floor_over_first"] == 0.25
    table = format_scale_table(floor, first, next_day, summary, graph)
    assert "graph floor: next day (300)" in table and "graph floor: first (300)" in table
    assert "graph floor's next day / first build 0.25" in table


def test_node_seconds_sums_per_resource_type_and_names_the_slowest_models(tmp_path: Path) -> None:
    workspace = DbtWorkspace(tmp_path / "raw", tmp_path / "w.duckdb", tmp_path / "dbt")
    assert node_seconds(workspace) == {}
    target = workspace.work_dir / "target"
    target.mkdir(parents=True)
    results = [
        {"unique_id": "model.p.slow", "execution_time": 9.04},
        {"unique_id": "model.p.fast", "execution_time": 1.0},
        {"unique_id": "model.p.middle", "execution_time": 2.0},
        {"unique_id": "test.p.unique_slow_id.abc", "execution_time": 0.5},
        {"unique_id": "test.p.not_null_slow_id.def", "execution_time": 0.25},
    ]
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    spent = node_seconds(workspace, slowest=2)
    assert spent["summed_seconds"] == {"model": 12.0, "test": 0.8}
    assert spent["nodes"] == {"model": 3, "test": 2}
    assert list(spent["slowest_models"].items()) == [("slow", 9.0), ("middle", 2.0)]


def test_used_size_leaves_out_the_blocks_a_rebuild_freed(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table big as select range as x, md5(range::varchar) as y from range(300000)")
    con.execute("checkpoint")
    con.execute("drop table big")
    con.execute("create table small as select 1 as x")
    con.execute("checkpoint")
    con.close()
    assert warehouse_used_mb(path) < path.stat().st_size / 2**20 / 2
    assert warehouse_used_mb(tmp_path / "missing.duckdb") is None
