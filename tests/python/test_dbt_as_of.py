"""One as-of date for every dbt step of a Dagster run (orchestration/defs/dbt/as_of.py)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.dbt import as_of


def _warehouse(path: Path, as_of_date: str | None) -> Path:
    with duckdb.connect(str(path)) as connection:
        if as_of_date is not None:
            connection.execute("create schema audit")
            connection.execute(
                "create table audit.audit__as_of as "
                f"select date '{as_of_date}' as as_of_date, 'latest data' as as_of_source"
            )
    return path


def test_later_steps_build_as_of_the_date_staging_resolved(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb", "2026-09-29")
    assert as_of.as_of_args(builds_as_of_model=False, warehouse=warehouse) == [
        "--vars",
        json.dumps({"as_of": "2026-09-29"}),
    ]
    # The staging step resolves the date itself: it never reuses an older one.
    assert as_of.as_of_args(builds_as_of_model=True, warehouse=warehouse) == []


def test_no_date_to_pass_before_any_staging_build(tmp_path: Path) -> None:
    assert as_of.as_of_args(builds_as_of_model=False, warehouse=tmp_path / "missing.duckdb") == []
    older = _warehouse(tmp_path / "older.duckdb", None)  # built before the audit layer existed
    assert as_of.as_of_args(builds_as_of_model=False, warehouse=older) == []


def test_a_date_set_in_dbt_project_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb", "2026-09-29")
    monkeypatch.setattr(as_of, "configured_as_of", lambda: "2026-06-30")
    assert as_of.as_of_args(builds_as_of_model=False, warehouse=warehouse) == []


def test_the_project_sets_no_as_of_by_default() -> None:
    assert as_of.configured_as_of() is None
