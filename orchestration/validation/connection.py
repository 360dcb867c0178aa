"""Open the warehouse read-only, waiting for a writer to let go.

DuckDB lets one process hold a file for writing, and a reader in another process
is refused while it does (shared/STACK.md trap 4). Checks and the summary run after
the dbt step that wrote the file, but a dbt process that is still exiting (after a
failed step, say), or a manual `dbt build`, can hold the lock: wait for it (the shared
lock timeout, orchestration/warehouse_lock.py), then fail naming the holder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.warehouse_lock import connect


def read_only_connection(path: Path, wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the DuckDB file, retried while another process holds its lock.

    wait_seconds: how long to wait; None for CIW_LOCK_TIMEOUT_SECONDS (default 60).
    """
    return connect(path, read_only=True, timeout=wait_seconds)
