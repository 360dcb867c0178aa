"""One as-of date for every dbt step of a Dagster run.

A run builds the project in several dbt invocations, one per layer. Each would resolve
the as-of date on its own (macros/as_of.sql: the date of the latest raw order), so new raw
files landing during a run could date the marts a day later than the staging they are
built on. The step that builds audit.audit__as_of (the staging step) resolves the date;
every later step reads it there and passes it to dbt as `--vars {as_of: ...}`. A run
without a staging step reads the date the last staging build used, so its layers agree
with the staging tables they read.

An as-of date set in dbt_project.yml (var as_of) always wins: no step passes one then.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import yaml

from orchestration.dbt_cli import PROJECT_DIR
from orchestration.validation.connection import read_only_connection
from orchestration.validation.settings import warehouse_path

AS_OF_MODEL = "audit__as_of"
AS_OF_RELATION = "audit.audit__as_of"


def configured_as_of(project_dir: Path = PROJECT_DIR) -> str | None:
    """The as-of date set in dbt_project.yml (var as_of), or None for "the latest data"."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    value = (project.get("vars") or {}).get("as_of")
    return None if value is None or str(value) == "" else str(value)


def resolved_as_of(warehouse: Path | None = None) -> str | None:
    """The as-of date the last build of audit.audit__as_of used, or None when there is none yet."""
    warehouse = warehouse or warehouse_path()
    if not warehouse.exists():
        return None
    connection = read_only_connection(warehouse)
    try:
        row = connection.execute(f"select cast(max(as_of_date) as varchar) from {AS_OF_RELATION}").fetchone()
    except duckdb.CatalogException:  # a warehouse built before the audit layer existed
        return None
    finally:
        connection.close()
    return None if row is None else row[0]


def as_of_args(builds_as_of_model: bool, warehouse: Path | None = None) -> list[str]:
    """Extra `dbt build` arguments for one layer step: `--vars {as_of: ...}`, or none.

    None for the step that builds audit__as_of (it resolves the date), when dbt_project.yml
    sets the date, or before any build has resolved one (dbt then resolves it itself).
    """
    if builds_as_of_model or configured_as_of() is not None:
        return []
    as_of = resolved_as_of(warehouse)
    return [] if as_of is None else ["--vars", json.dumps({"as_of": as_of})]
