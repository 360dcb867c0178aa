"""One writer at a time, explained: a second process that needs the warehouse waits for it, then
fails with one line naming the holder; Dagster retries a step that lost the race.

A real holder: a subprocess opens the DuckDB file for writing and sleeps, as a manual
`dbt build` or a Dagster run would hold it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from orchestration.cli import main as ciw
from orchestration.dbt_cli import outwaiting_locks
from orchestration.syncs.testing import fake_treatments, write_treatments
from orchestration.warehouse_lock import WarehouseLockedError, connect

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(float(sys.argv[2]))"


def hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    """A process that holds `path` for writing for `seconds`; returns once it holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    write_treatments(path, fake_treatments(60, date(2026, 6, 30), seed=2))
    return path


@pytest.fixture
def held(warehouse: Path) -> Iterator[subprocess.Popen[str]]:
    holder = hold(warehouse, 60)
    try:
        yield holder
    finally:
        holder.kill()
        holder.wait()


def assert_one_line_naming(err: str, pid: int, path: Path) -> None:
    print(f"\n{err}", end="")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"PID {pid}" in err and str(path) in err
    assert "CIW_LOCK_TIMEOUT_SECONDS" in err and "kill" in err  # what to do
    assert HOLD.split(";")[0] in err or "python" in err  # the holder's command line, from /proc


def test_an_entry_point_fails_with_one_line_naming_the_holder(
    warehouse: Path, held: subprocess.Popen[str], tmp_path: Path
) -> None:
    env = {**os.environ, "CIW_DUCKDB_PATH": str(warehouse), "CIW_LOCK_TIMEOUT_SECONDS": "1"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "orchestration", "summary"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert time.monotonic() - started >= 1  # it waited
    assert_one_line_naming(done.stderr, held.pid, warehouse)


@pytest.mark.parametrize(
    "argv",
    [
        ["dbt", "build"],  # waits for the file before dbt starts: dbt never runs into the lock
        ["sync", "--channel", "email"],
        ["validate", "--layer", "activation"],
    ],
    ids=["dbt", "sync", "validate"],
)
def test_every_ciw_command_that_opens_the_warehouse_says_the_same(
    argv: list[str],
    warehouse: Path,
    held: subprocess.Popen[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CIW_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("CIW_SYNC_EXPORTS_PATH", str(tmp_path / "exports"))
    monkeypatch.setenv("CIW_VALIDATION_PATH", str(tmp_path / "validation"))
    monkeypatch.setenv("CIW_LOCK_TIMEOUT_SECONDS", "0.5")
    assert ciw(argv) == 1
    assert_one_line_naming(capsys.readouterr().err, held.pid, warehouse)


def test_with_a_longer_timeout_it_waits_and_succeeds_once_the_holder_exits(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIW_DUCKDB_PATH", str(warehouse))
    monkeypatch.setenv("CIW_SYNC_EXPORTS_PATH", str(tmp_path / "exports"))
    monkeypatch.setenv("CIW_LOCK_TIMEOUT_SECONDS", "30")
    holder = hold(warehouse, 2)
    try:
        started = time.monotonic()
        assert ciw(["sync", "--channel", "email"]) == 0
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    print(f"\nwaited {waited:.1f} s for the holder to exit, then synced: {capsys.readouterr().out.strip()}")
    assert 1.0 <= waited < 25
    assert list((tmp_path / "exports" / "email").glob("*.jsonl"))
    connect(warehouse, timeout=0).close()  # nobody holds it now


def test_dbt_that_loses_the_race_is_run_again_then_explained(
    warehouse: Path, held: subprocess.Popen[str]
) -> None:
    """Between the wait and dbt's own open another process can take the file: dbt's lock error
    (in its output) makes the wrapper run dbt again, and one line once the time is up."""
    free = warehouse.with_name("free.duckdb")
    lock_line = (
        f'IO Error: Could not set lock on file "{warehouse}": Conflicting lock is held in '
        f"/usr/bin/python3 (PID {held.pid}). See also https://duckdb.org/docs/current/connect/concurrency"
    )
    outputs = iter([(2, f"Encountered an error:\n{lock_line}\n"), (0, "Completed successfully")])
    calls: list[int] = []

    def run() -> tuple[int, str]:
        calls.append(1)
        return next(outputs)

    assert outwaiting_locks(free, run, timeout=10) == (0, "Completed successfully")
    assert len(calls) == 2
    with pytest.raises(WarehouseLockedError, match=f"held by PID {held.pid}") as error:
        outwaiting_locks(free, lambda: (2, lock_line), timeout=0)
    assert "\n" not in str(error.value)


@pytest.mark.slow  # loads the dbt assets (parses the project)
def test_the_dagster_dbt_and_sync_assets_retry_a_lost_lock_race_only() -> None:
    from dagster import Backoff, Failure

    from orchestration.defs.dbt.assets import warehouse_dbt_assets
    from orchestration.defs.retries import LOCK_RETRY_POLICY, final_failure
    from orchestration.defs.syncs import sync_assets

    assert warehouse_dbt_assets and sync_assets
    for assets in [*warehouse_dbt_assets, *sync_assets]:
        policy = assets.op.retry_policy
        assert policy == LOCK_RETRY_POLICY, assets.op.name
    assert LOCK_RETRY_POLICY.max_retries >= 2 and LOCK_RETRY_POLICY.backoff == Backoff.EXPONENTIAL
    # Anything but a lost lock (a failed dbt test, an endpoint down) bypasses the policy.
    failure = final_failure("dbt build failed")
    assert isinstance(failure, Failure) and failure.allow_retries is False
