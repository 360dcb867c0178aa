"""The report's sections on small hand-made warehouses: what a figure shows when its data is there,
and what it says instead when a source was not provided or a model is not built.

No dbt build: each test writes the few tables a section reads into a fresh DuckDB file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.report import sections
from orchestration.report.build import build_report
from orchestration.report.data import Warehouse


def _warehouse(path: Path, statements: list[str]) -> Warehouse:
    connection = duckdb.connect(str(path))
    try:
        connection.execute("create schema audit; create schema marts; create schema measurement")
        connection.execute("create table audit.audit__as_of as select date '2026-03-31' as as_of_date")
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()
    return Warehouse.open(path)


def test_calibration_orders_buckets_numerically_and_cites_its_model(tmp_path: Path) -> None:
    warehouse = _warehouse(
        tmp_path / "w.duckdb",
        [
            "create table marts.clv_calibration as select * from (values "
            "('7+', 40, 6.1, 5.8, 180, date '2026-03-31'), ('0', 900, 0.2, 0.3, 180, date '2026-03-31'), "
            "('10', 1, 9.0, 9.0, 180, date '2026-03-31'), ('2', 300, 1.1, 1.0, 180, date '2026-03-31')) "
            "as t(calibration_frequency, customers, predicted_purchases_mean, actual_purchases_mean, "
            "holdout_days, as_of_date)"
        ],
    )
    try:
        chart = sections._calibration(warehouse, warehouse.as_of_date())
    finally:
        warehouse.close()
    assert chart.missing is None
    assert list(chart.figure.data[0].x) == ["0", "2", "7+", "10"]
    assert list(chart.figure.data[0].y) == [0.3, 1.0, 5.8, 9.0]  # actual
    assert list(chart.figure.data[1].y) == [0.2, 1.1, 6.1, 9.0]  # predicted
    assert chart.caption == "Source: marts.clv_calibration · as of 2026-03-31"


def test_calibration_without_its_model_says_so(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb", [])
    try:
        chart = sections._calibration(warehouse, warehouse.as_of_date())
    finally:
        warehouse.close()
    assert chart.figure is None
    assert chart.missing == "Not available in this build: marts.clv_calibration is not built."


def test_a_source_not_provided_is_said_not_drawn(tmp_path: Path) -> None:
    """The loyalty figures name the raw table the company did not bring, even if the model is built."""
    warehouse = _warehouse(
        tmp_path / "w.duckdb",
        [
            "create table audit.audit__source_tables as select * from (values "
            "('shop.orders', true), ('crm.loyalty_members', false)) as t(raw_table, is_provided)",
            "create table measurement.loyalty_program_effect as select 'naive' as estimate",
        ],
    )
    try:
        charts = sections._loyalty(warehouse, warehouse.as_of_date())
    finally:
        warehouse.close()
    assert [c.figure for c in charts] == [None, None]
    assert {c.missing for c in charts} == {"Not provided: this build was given no crm.loyalty_members data."}


def test_report_of_a_nearly_empty_warehouse_is_written_with_every_section(tmp_path: Path) -> None:
    """A build that stopped early still gets a page: every section, each figure saying what is missing."""
    path = tmp_path / "w.duckdb"
    _warehouse(path, []).close()
    page = build_report(path, tmp_path / "report.html")
    html = page.read_text()
    for key in ("overview", "value", "needs", "journey", "activation", "measurement", "data-quality"):
        assert f'id="{key}"' in html
    assert 'data-state="drawn"' not in html
    assert "plotly" not in html.lower().replace("plotly-graph-div", "")  # no figure, no plotly.js
    assert html.count('class="not-available"') >= 7


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make demo"):
        build_report(tmp_path / "absent.duckdb")
