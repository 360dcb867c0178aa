"""Open the warehouse read-only, waiting briefly for a writer to let go.

DuckDB lets one process hold a file for writing, and a reader in another process
is refused while it does (shared/STACK.md trap 4). Checks and the summary run after
the dbt step that wrote the file, but a dbt process that is still exiting (after a
failed step, say) can hold the lock for a moment: wait for it rather than fail.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb


def read_only_connection(path: Path, wait_seconds: float = 30.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the DuckDB file, retried while another process holds its lock."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(1.0)
