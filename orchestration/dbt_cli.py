"""Run the dbt CLI of this environment against a chosen raw folder and warehouse file.

Tests and benchmarks build many warehouses side by side; each gets its own
raw path, DuckDB file and target folder through environment variables, the
same knobs a user sets (see profiles.yml and the sources' YAML).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DbtWorkspace:
    """Where one dbt build reads raw files and writes its warehouse."""

    raw_path: Path
    duckdb_path: Path
    work_dir: Path
    file_format: str = "parquet"
    # dbt unit tests pin SQL logic on fixtures, not on the data: they give the same answer in
    # every workspace, so the test suite runs them once (test_dbt_unit_tests) and builds skip them.
    unit_tests: bool = False

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "CIW_RAW_DATA_PATH": str(self.raw_path),
                "CIW_DUCKDB_PATH": str(self.duckdb_path),
                "CIW_RAW_FILE_FORMAT": self.file_format,
                "DBT_PROFILES_DIR": str(PROJECT_DIR),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                # Every workspace parses on its own: a shared partial-parse cache would
                # carry one workspace's raw path into another's manifest.
                "DBT_TARGET_PATH": str(self.work_dir / "target"),
                "DBT_LOG_PATH": str(self.work_dir / "logs"),
            }
        )
        if self.unit_tests:
            env.pop("DBT_EXCLUDE_RESOURCE_TYPES", None)
        else:
            env["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
        return env


def dbt_executable() -> str:
    """The dbt entry point installed beside this interpreter."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: list[str], workspace: DbtWorkspace) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` in the project for this workspace; never raises on dbt failure."""
    workspace.work_dir.mkdir(parents=True, exist_ok=True)
    workspace.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR,
        env=workspace.environment(),
        capture_output=True,
        text=True,
        check=False,
    )
