"""Run the dbt CLI of this environment against a chosen raw folder and warehouse file.

Tests and benchmarks build many warehouses side by side; each gets its own
raw path, DuckDB file and target folder through environment variables, the
same knobs a user sets (see profiles.yml and the sources' YAML).

dbt-duckdb opens the warehouse itself and fails at once ("Could not set lock on file") while
another process holds it. So every dbt call made here first waits for the file
(warehouse_lock.wait_until_writable, CIW_LOCK_TIMEOUT_SECONDS), runs dbt again if it still
lost the race, and turns a lock error it cannot outwait into one line naming the holder.
`ciw dbt <args>` (main below) is the same for a person at the shell: `make build` uses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestration.warehouse_lock import (
    WarehouseLockedError,
    lock_error_in,
    lock_timeout,
    locked_message,
    wait_until_writable,
)

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


def outwaiting_locks(
    warehouse: Path, run: Callable[[], tuple[int, str]], timeout: float | None = None
) -> tuple[int, str]:
    """Run dbt via `run` (-> exit code, output) once `warehouse` is free; again while it loses the race.

    dbt fails on a held file before it builds anything, so running it again is safe. Raises
    WarehouseLockedError once the lock timeout is spent.
    """
    deadline = time.monotonic() + lock_timeout(timeout)
    started = time.monotonic()
    while True:
        wait_until_writable(warehouse, max(0.0, deadline - time.monotonic()))
        code, output = run()
        locked = lock_error_in(output) if code != 0 else None
        if locked is None:
            return code, output
        if time.monotonic() >= deadline:
            raise WarehouseLockedError(*locked_message(warehouse, locked, time.monotonic() - started))
        time.sleep(1.0)


def run_dbt(args: list[str], workspace: DbtWorkspace) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` in the project for this workspace; never raises on dbt failure.

    Waits while another process holds the workspace's warehouse (outwaiting_locks).
    """
    workspace.work_dir.mkdir(parents=True, exist_ok=True)
    workspace.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    command = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR)]
    results: list[subprocess.CompletedProcess[str]] = []

    def run() -> tuple[int, str]:
        done = subprocess.run(
            command, cwd=PROJECT_DIR, env=workspace.environment(), capture_output=True, text=True, check=False
        )
        results.append(done)
        return done.returncode, done.stdout + done.stderr

    outwaiting_locks(workspace.duckdb_path, run)
    return results[-1]


def warehouse_path() -> Path:
    """The warehouse dbt builds: CIW_DUCKDB_PATH, relative to the project like in profiles.yml."""
    path = Path(os.environ.get("CIW_DUCKDB_PATH", "data/warehouse.duckdb"))
    return path if path.is_absolute() else PROJECT_DIR / path


USAGE = """usage: ciw dbt <dbt arguments>   e.g. ciw dbt build --select staging

Runs this environment's dbt in the project, like `dbt <arguments>`, but waits while another
process holds the warehouse (CIW_LOCK_TIMEOUT_SECONDS, default 60) instead of failing on
DuckDB's lock, and says in one line who holds it when the wait runs out."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(USAGE)
        raise SystemExit(0)
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(PROJECT_DIR))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

    def run() -> tuple[int, str]:
        # Streamed as it comes (a build takes minutes); kept to look for DuckDB's lock error.
        process = subprocess.Popen(
            [dbt_executable(), *args], cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
        return process.wait(), "".join(lines)

    code, _ = outwaiting_locks(warehouse_path(), run)
    return code
