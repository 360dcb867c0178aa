"""Every dbt unit test (the `_*__unit_tests.yml` files beside the models) passes.

Builds elsewhere in the suite skip unit tests (DbtWorkspace.unit_tests): they check SQL logic on
fixed inputs, so one run is enough. dbt reads the input models' column types from the warehouse,
hence the shared full build.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from orchestration.dbt_cli import DbtWorkspace, run_dbt

pytestmark = pytest.mark.slow


def test_every_dbt_unit_test_passes(full_build: DbtWorkspace) -> None:
    workspace = replace(full_build, unit_tests=True)
    result = run_dbt(["test", "--select", "test_type:unit"], workspace)
    assert result.returncode == 0, result.stdout[-6000:]
    results = json.loads((workspace.work_dir / "target" / "run_results.json").read_text())["results"]
    # The run-start hook that resolves the as-of date runs too (an `operation.` result).
    statuses = {r["unique_id"]: r["status"] for r in results if not r["unique_id"].startswith("operation.")}
    assert all(uid.startswith("unit_test.") for uid in statuses), sorted(statuses)
    assert len(statuses) >= 60, len(statuses)
    assert set(statuses.values()) == {"pass"}


def test_builds_in_the_suite_skip_unit_tests(full_build: DbtWorkspace) -> None:
    assert full_build.environment()["DBT_EXCLUDE_RESOURCE_TYPES"] == "unit_test"
    assert "DBT_EXCLUDE_RESOURCE_TYPES" not in replace(full_build, unit_tests=True).environment()
