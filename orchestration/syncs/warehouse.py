"""The sync's memory, kept in the warehouse (schema reverse_etl) beside the data it describes.

- sync_state: per channel, destination and row key, the hash of the row the destination last
  acknowledged, a per-key version and the sync/run that delivered it. Deleted rows stay as
  tombstones, so a key's version only ever grows (the idempotency key depends on it).
- sync_log: one row per sync of a channel to a destination: rows added/changed/removed/failed,
  HTTP attempts, start/finish, status (running, success, partial, failed, interrupted, recovered).
- sync_pending: the rows of a file written but not yet confirmed in sync_state; it lets a sync
  that crashed between publishing a file and recording it finish the bookkeeping instead of
  writing the same rows again.
- sync_meta: the state epoch, a random id made once when the state is created, so idempotency
  keys of a rebuilt warehouse never collide with those a server saw before.

DuckDB lets one process write the file at a time; dbt holds it while it builds. Syncs open the
file only after dbt has finished (Dagster runs them downstream, in the duckdb_writer pool), and a
locked file fails with a message saying so instead of a bare IO error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

SCHEMA = "reverse_etl"

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""
    create table if not exists {SCHEMA}.sync_meta (
        name varchar primary key,
        value varchar not null,
        created_at timestamp not null
    )
    """,
    f"""
    create table if not exists {SCHEMA}.sync_state (
        channel varchar not null,
        destination varchar not null,
        row_key varchar not null,
        row_hash varchar,
        is_deleted boolean not null,
        version integer not null,
        last_change varchar not null,
        last_sync_id varchar not null,
        last_run_id varchar not null,
        source_run_date date,
        synced_at timestamp not null,
        primary key (channel, destination, row_key)
    )
    """,
    f"""
    create table if not exists {SCHEMA}.sync_log (
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
    f"""
    create table if not exists {SCHEMA}.sync_pending (
        sync_id varchar not null,
        row_key varchar not null,
        row_hash varchar,
        base_version integer not null,
        change varchar not null,
        primary key (sync_id, row_key)
    )
    """,
)


class WarehouseLockedError(RuntimeError):
    """Another process (usually dbt) holds the DuckDB file."""


def utc_now() -> datetime:
    """Naive UTC, the convention of the warehouse's timestamps."""
    return datetime.now(UTC).replace(tzinfo=None)


def connect(duckdb_path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, with a clear error while dbt (or anyone) holds it."""
    try:
        return duckdb.connect(str(duckdb_path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseLockedError(
                f"{duckdb_path} is locked by another process (a dbt build?): run the syncs after it, "
                f"not beside it. DuckDB said: {exc}"
            ) from exc
        raise


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def state_epoch(con: duckdb.DuckDBPyConnection) -> str:
    """The id of this warehouse's sync state, created on first use."""
    row = con.execute(f"select value from {SCHEMA}.sync_meta where name = 'state_epoch'").fetchone()
    if row:
        return str(row[0])
    epoch = uuid.uuid4().hex
    con.execute(
        f"insert into {SCHEMA}.sync_meta (name, value, created_at) values ('state_epoch', ?, ?)",
        [epoch, utc_now()],
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
