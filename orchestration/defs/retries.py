"""Retry a step that lost the race for the warehouse, and nothing else.

DuckDB takes one writer per file. Inside a run, the duckdb_writer pool keeps the steps apart;
a process outside Dagster (a manual `dbt build`, `ciw sync`, a notebook) can still hold the file
when a step starts. The step first waits for the lock itself (CIW_LOCK_TIMEOUT_SECONDS,
orchestration/warehouse_lock.py); if the holder is still there it fails with
WarehouseLockedError, and this policy runs it again after 30 s, 90 s and 210 s (exponential
backoff, +/- jitter so two waiting runs do not retry in step). Any other failure (a failed dbt
test, an endpoint that is down) is raised as a Failure that bypasses the policy: running a
failed build again would fail the same way, only later.
"""

from __future__ import annotations

from dagster import Backoff, Failure, Jitter, RetryPolicy

LOCK_RETRY_POLICY = RetryPolicy(
    max_retries=3, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)


def final_failure(description: str, metadata: dict[str, object] | None = None) -> Failure:
    """A step failure no retry can fix: Dagster does not apply LOCK_RETRY_POLICY to it."""
    return Failure(description=description, metadata=metadata, allow_retries=False)
