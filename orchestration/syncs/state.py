"""The sync's memory: a DuckDB file of its own beside the exports, not a schema of the warehouse.

Rebuilding the warehouse from scratch (a new machine, a dropped file, `make clean build`) must
not make every channel receive every row again, so the state lives where a build never writes:
by default <exports directory>/_sync_state.duckdb (CIW_SYNC_STATE_PATH moves it; see
docs/operations.md). A sync reads the activation rows from the warehouse, attached read-only for
the moment it takes to copy them, and writes only here. Tables, per channel and destination:

- sync_state: one row per key the destination holds now: the hash of the row it acknowledged,
  the key's version (grows with each acknowledged change), its life id (made when the key was
  added) and the sync/run that delivered it. An acknowledged deletion DELETES the row: no
  tombstone keeps a key the warehouse no longer has, so an erased customer leaves no trace
  after the next sync. The life id keeps idempotency keys of a key re-added after a deletion
  apart from those of its earlier life (see diff.idempotency_key).
- sync_log: one row per sync of a channel to a destination: counts only (planned, added,
  changed, removed, failed, HTTP attempts), start/finish, status (running, success, partial,
  failed, interrupted, recovered), the output file or URL. No row keys, no payloads.
- sync_pending: planned rows not yet confirmed. A file sync keeps its plan here between writing
  the file and recording it (a crash in between is confirmed by the next sync, not re-sent); an
  HTTP sync keeps the rows no batch acknowledged yet, so the next sync re-sends them with the
  same idempotency keys. Rows leave when confirmed, and the next sync of the destination
  clears whatever is left once it has planned.
- sync_meta: the state epoch, a random id made once when the store is created, so the
  idempotency keys of a new store never collide with those a server saw before.

One process writes the file at a time (DuckDB); `open_store` waits for the lock like every
other entry point (orchestration/warehouse_lock.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.warehouse_lock import connect, retry_while_locked

WAREHOUSE = "ciw_warehouse"  # the alias the warehouse is attached under, read-only, while rows are copied

DDL = (
    """
    create table if not exists sync_meta (
        name varchar primary key,
        value varchar not null,
        created_at timestamp not null
    )
    """,
    """
    create table if not exists sync_state (
        channel varchar not null,
        destination varchar not null,
        row_key varchar not null,
        row_hash varchar not null,
        version integer not null,
        life_id varchar not null,
        last_change varchar not null,
        last_sync_id varchar not null,
        last_run_id varchar not null,
        source_run_date date,
        synced_at timestamp not null,
        primary key (channel, destination, row_key)
    )
    """,
    """
    create table if not exists sync_log (
        sync_id varchar primary key,
        run_id varchar not null,
        channel varchar not null,
        destination varchar not null,
        output varchar,
        source_run_date date,
        status varchar not null,
        rows_planned integer not null,
        rows_added integer not null,
        rows_changed integer not null,
        rows_removed integer not null,
        rows_failed integer not null,
        attempts integer not null,
        resumed_sync_id varchar,
        error varchar,
        started_at timestamp not null,
        finished_at timestamp
    )
    """,
    """
    create table if not exists sync_pending (
        sync_id varchar not null,
        channel varchar not null,
        destination varchar not null,
        row_key varchar not null,
        row_hash varchar,
        base_version integer not null,
        life_id varchar not null,
        change varchar not null,
        primary key (sync_id, row_key)
    )
    """,
)


class SourceError(RuntimeError):
    """The activation table is missing, empty or breaks the key the channel relies on."""


def utc_now() -> datetime:
    """Naive UTC, the convention of the warehouse's timestamps."""
    return datetime.now(UTC).replace(tzinfo=None)


def open_store(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open (or create) the state store for writing, waiting while another sync holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(path)
    for statement in DDL:
        con.execute(statement)
    return con


@contextmanager
def attached_warehouse(con: duckdb.DuckDBPyConnection, warehouse: Path | str) -> Iterator[str]:
    """The warehouse attached read-only to the store's connection, detached on leaving: briefly.

    Yields the alias to qualify relations with. A writer (dbt) holding the file is waited for.
    """
    path = Path(warehouse)
    if not path.exists():
        raise SourceError(f"No warehouse at {path}: build it first (make build / make demo).")
    literal = str(path).replace("'", "''")
    retry_while_locked(lambda: con.execute(f"attach '{literal}' as {WAREHOUSE} (read_only)"), path)
    try:
        yield WAREHOUSE
    finally:
        con.execute(f"detach {WAREHOUSE}")


def state_epoch(con: duckdb.DuckDBPyConnection) -> str:
    """The id of this store's sync state, created on first use."""
    row = con.execute("select value from sync_meta where name = 'state_epoch'").fetchone()
    if row:
        return str(row[0])
    epoch = uuid.uuid4().hex
    con.execute(
        "insert into sync_meta (name, value, created_at) values ('state_epoch', ?, ?)", [epoch, utc_now()]
    )
    return epoch


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit everything inside or nothing: state and log counters move together."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
