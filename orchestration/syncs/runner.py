"""Sync one channel to its destinations: recover an interrupted sync, diff, deliver, record.

The state store (state.py, a DuckDB file beside the exports) is opened for writing; the
warehouse is attached to it read-only just long enough to copy the channel's current rows,
so a warehouse rebuilt from scratch changes nothing but what really changed.

For each destination, in order:
1. a sync of this channel and destination still marked running died (the store is
   single-writer, so nothing else can be running): a file it had already put in place is
   confirmed in the state (status recovered), otherwise it is marked interrupted; what it got
   acknowledged batch by batch is in the state already, and the rows it had not, still
   pending, lend their life ids to the next plan (same idempotency keys on the resend);
2. the diff against what the destination acknowledged (see diff.py) is the plan; an empty
   plan sends nothing and is logged with zeros;
3. delivery: a file is written whole and then recorded; HTTP batches are recorded one by one,
   in the same transaction as the log's counters.
At the end rows_failed = planned - delivered: rows refused, or never sent because the sync gave
up. They stay out of the state, so the next sync offers them again.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from orchestration.syncs.config import ChannelConfig, SyncConfig, load_config, state_path_from_env
from orchestration.syncs.diff import (
    SOURCE_RELATION,
    Plan,
    build_current,
    build_plan,
    confirm_pending,
    discard_pending,
    fetch_planned,
    latest_run_date,
    record_acknowledged,
    save_pending,
)
from orchestration.syncs.file_destination import FileDestination
from orchestration.syncs.http_destination import HttpDestination
from orchestration.syncs.protocol import DeliveryContext
from orchestration.syncs.state import attached_warehouse, open_store, state_epoch, transaction, utc_now

LOG = "sync_log"


@dataclass(frozen=True)
class DestinationResult:
    destination: str
    sync_id: str
    status: str  # success | partial | failed
    planned: int
    added: int
    changed: int
    removed: int
    failed: int
    attempts: int
    output: str | None
    resumed_sync_id: str | None
    error: str | None

    @property
    def delivered(self) -> int:
        return self.added + self.changed + self.removed


@dataclass(frozen=True)
class SyncResult:
    channel: str
    run_id: str
    source_run_date: date | None  # None: no treatments yet and nothing ever sent
    current_rows: int  # rows of this channel in the latest run, holdouts excluded
    destinations: tuple[DestinationResult, ...]

    def total(self, counter: str) -> int:
        return sum(getattr(result, counter) for result in self.destinations)

    @property
    def ok(self) -> bool:
        """No destination failed outright (partial: some rows refused, retried next sync)."""
        return all(result.status != "failed" for result in self.destinations)


def build_destinations(channel: ChannelConfig) -> list[FileDestination | HttpDestination]:
    """The destinations a channel's configuration switches on."""
    destinations: list[FileDestination | HttpDestination] = []
    if channel.file is not None:
        destinations.append(FileDestination(directory=channel.file.directory, format=channel.file.format))
    if channel.http is not None:
        http = channel.http
        destinations.append(
            HttpDestination(
                url=http.url,
                batch_size=http.batch_size,
                timeout_seconds=http.timeout_seconds,
                max_attempts=http.max_attempts,
                backoff_initial_seconds=http.backoff_initial_seconds,
                backoff_max_seconds=http.backoff_max_seconds,
                token=http.token,
            )
        )
    return destinations


class _Log:
    """The sync_log row of one sync; counters move in the caller's transactions."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sync_id: str) -> None:
        self.con = con
        self.sync_id = sync_id

    def start(
        self, run_id: str, channel: str, destination: Any, run_date: date, plan: Plan, resumed: str | None
    ):
        self.con.execute(
            f"""
            insert into {LOG} (
                sync_id, run_id, channel, destination, output, source_run_date, status, rows_planned,
                rows_added, rows_changed, rows_removed, rows_failed, attempts, resumed_sync_id, started_at
            ) values (?, ?, ?, ?, ?, ?, 'running', ?, 0, 0, 0, 0, 0, ?, ?)
            """,
            [
                self.sync_id,
                run_id,
                channel,
                destination.name,
                destination.describe(),
                run_date,
                plan.rows,
                resumed,
                utc_now(),
            ],
        )

    def add(self, counts: Counter[str] | dict[str, int], attempts: int = 0) -> None:
        self.con.execute(
            f"""
            update {LOG} set
                rows_added = rows_added + ?, rows_changed = rows_changed + ?,
                rows_removed = rows_removed + ?, attempts = attempts + ?
            where sync_id = ?
            """,
            [
                counts.get("added", 0),
                counts.get("changed", 0),
                counts.get("removed", 0),
                attempts,
                self.sync_id,
            ],
        )

    def set_output(self, output: str) -> None:
        self.con.execute(f"update {LOG} set output = ? where sync_id = ?", [output, self.sync_id])

    def finish(self, gave_up: bool = False, error: str | None = None) -> None:
        self.con.execute(
            f"""
            update {LOG} set
                rows_failed = rows_planned - rows_added - rows_changed - rows_removed,
                status = case
                    when ? then 'failed'
                    when rows_planned = rows_added + rows_changed + rows_removed then 'success'
                    when rows_added + rows_changed + rows_removed > 0 then 'partial'
                    else 'failed'
                end,
                error = ?,
                finished_at = ?
            where sync_id = ?
            """,
            [gave_up, error, utc_now(), self.sync_id],
        )

    def result(self) -> DestinationResult:
        row = self.con.execute(
            f"""
            select destination, sync_id, status, rows_planned, rows_added, rows_changed, rows_removed,
                rows_failed, attempts, output, resumed_sync_id, error
            from {LOG} where sync_id = ?
            """,
            [self.sync_id],
        ).fetchone()
        return DestinationResult(*row)


def _state_params(
    sync_id: str, run_id: str, channel: str, destination: str, run_date: date
) -> dict[str, Any]:
    return {
        "sync_id": sync_id,
        "run_id": run_id,
        "channel": channel,
        "destination": destination,
        "run_date": run_date,
        "synced_at": utc_now(),
    }


def _recover(con: duckdb.DuckDBPyConnection, channel: str, destination: Any, resumed_by: str) -> str | None:
    """Close the syncs of this channel and destination that died while running; return the last."""
    dead = con.execute(
        f"""
        select sync_id, run_id, output, source_run_date from {LOG}
        where channel = ? and destination = ? and status = 'running'
        order by started_at, sync_id
        """,
        [channel, destination.name],
    ).fetchall()
    for sync_id, run_id, output, run_date in dead:
        pending = con.execute("select count(*) from sync_pending where sync_id = ?", [sync_id]).fetchone()[0]
        log = _Log(con, sync_id)
        with transaction(con):
            if pending and destination.atomic and destination.is_published(output):
                # The file reached the tool: its rows are delivered, only the bookkeeping was lost.
                counts = confirm_pending(
                    con, _state_params(sync_id, run_id, channel, destination.name, run_date)
                )
                log.add(counts)
                log.finish(error=f"stopped after publishing; confirmed by {resumed_by}")
                con.execute(f"update {LOG} set status = 'recovered' where sync_id = ?", [sync_id])
            else:
                if destination.atomic:  # its file never appeared: nothing of it was delivered
                    discard_pending(con, sync_id)
                # (a batched sync's unacknowledged rows stay pending for build_plan to reuse)
                log.finish(gave_up=True, error=f"stopped mid-sync; resumed by {resumed_by}")
                con.execute(
                    f"update {LOG} set status = 'interrupted', rows_failed = 0 where sync_id = ?", [sync_id]
                )
        if destination.atomic:
            destination.clean_up(output)
    return dead[-1][0] if dead else None


def _deliver_batches(
    con: duckdb.DuckDBPyConnection,
    channel: ChannelConfig,
    destination: Any,
    context: DeliveryContext,
    plan: Plan,
    epoch: str,
    log: _Log,
    params: dict[str, Any],
) -> tuple[bool, str | None]:
    """Send batch by batch, recording each acknowledgement; (gave_up, last error).

    The plan is pending until acknowledged, so a sync that dies mid-way, or gives up, leaves
    the next one what it needs to resend those rows under the same idempotency keys. The error
    kept in the log is ours (HTTP status, attempts) and counts: no server text, which may quote rows.
    """
    with transaction(con):
        save_pending(con, context.sync_id, channel.name, destination.name)
    sender = destination.open(context)
    refused = 0
    batch_errors: list[str] = []
    seq = 1
    while seq <= plan.rows:
        rows = fetch_planned(con, channel, destination.name, epoch, seq, seq + destination.batch_size - 1)
        outcome = sender.send(rows)
        acknowledged = set(outcome.acknowledged)
        with transaction(con):
            record_acknowledged(con, sorted(acknowledged), params)
            log.add(Counter(row.change for row in rows if row.seq in acknowledged), outcome.attempts)
        if outcome.error:
            batch_errors.append(outcome.error)
        else:
            refused += len(outcome.failed)
        if outcome.aborted:
            return True, outcome.error
        seq += len(rows)
    parts = [f"{refused} rows refused by the destination"] if refused else []
    if batch_errors:
        parts.append(f"{len(batch_errors)} batches failed, e.g. {batch_errors[0]}")
    return False, ("; ".join(parts) or None)


def _deliver_file(
    con: duckdb.DuckDBPyConnection,
    channel: ChannelConfig,
    destination: Any,
    context: DeliveryContext,
    plan: Plan,
    epoch: str,
    log: _Log,
    params: dict[str, Any],
) -> None:
    """Write the whole plan, keep it as pending, publish, then confirm it in the state."""
    writer = destination.open(context)
    try:
        seq = 1
        while seq <= plan.rows:
            rows = fetch_planned(con, channel, destination.name, epoch, seq, seq + destination.batch_size - 1)
            writer.write(rows)
            seq += len(rows)
        with transaction(con):
            save_pending(con, context.sync_id, channel.name, destination.name)
            log.set_output(str(writer.path))
    except BaseException:
        writer.discard()
        raise
    try:
        writer.publish()
    except BaseException:
        writer.discard()
        with transaction(con):
            discard_pending(con, context.sync_id)
        raise
    # A crash here leaves the file in place and the plan pending: the next sync confirms it.
    with transaction(con):
        counts = confirm_pending(con, params)
        log.add(counts, attempts=1)
        log.finish()


def _sync_destination(
    con: duckdb.DuckDBPyConnection,
    channel: ChannelConfig,
    destination: Any,
    run_id: str,
    run_date: date,
    epoch: str,
) -> DestinationResult:
    previous = con.execute(
        f"select count(*) from {LOG} where run_id = ? and channel = ? and destination = ?",
        [run_id, channel.name, destination.name],
    ).fetchone()[0]
    attempt = int(previous) + 1
    sync_id = f"{run_id}:{channel.name}:{destination.name}:{attempt}"
    resumed = _recover(con, channel.name, destination, resumed_by=sync_id)
    plan = build_plan(con, channel, destination.name, sync_id)
    log = _Log(con, sync_id)
    log.start(run_id, channel.name, destination, run_date, plan, resumed)
    if plan.rows == 0:
        log.finish()
        return log.result()
    context = DeliveryContext(
        sync_id=sync_id,
        run_id=run_id,
        channel=channel.name,
        attempt=attempt,
        fields=tuple(channel.columns.values()),
        key_fields=channel.key_fields,
    )
    params = _state_params(sync_id, run_id, channel.name, destination.name, run_date)
    try:
        if destination.atomic:
            _deliver_file(con, channel, destination, context, plan, epoch, log, params)
        else:
            gave_up, error = _deliver_batches(con, channel, destination, context, plan, epoch, log, params)
            log.finish(gave_up=gave_up, error=error)
    except Exception as exc:
        # Logged, not raised: the channel's other destinations still get their rows.
        log.finish(gave_up=True, error=f"{type(exc).__name__}: {exc}")
    return log.result()


def _nothing_to_send_or_remove(con: duckdb.DuckDBPyConnection, channel: str, source: str) -> bool:
    """True when the source exists with no rows and no destination holds a row of this channel.

    An empty source after rows were sent still fails in latest_run_date: it would delete them all.
    """
    try:
        (rows,) = con.execute(f"select count(*) from {source}").fetchone()
    except duckdb.CatalogException:
        return False
    if rows:
        return False
    (held,) = con.execute("select count(*) from sync_state where channel = ?", [channel]).fetchone()
    return held == 0


def default_run_id() -> str:
    return "manual-" + utc_now().strftime("%Y%m%dT%H%M%S%f")


def run_channel_sync(
    duckdb_path: Path | str,
    channel: ChannelConfig,
    destinations: Sequence[Any] | None = None,
    run_id: str | None = None,
    source: str = SOURCE_RELATION,
    state_path: Path | str | None = None,
) -> SyncResult:
    """Sync one channel's current treatments to each destination (by default: those configured).

    state_path: the state store (default: the channel's, from destinations.yml and the
    environment). The warehouse is only read, for as long as copying the channel's rows takes.
    """
    destinations = build_destinations(channel) if destinations is None else destinations
    names = [destination.name for destination in destinations]
    if len(set(names)) != len(names):
        raise ValueError(f"destination names must be unique per channel, got {names}")
    state_path = state_path or channel.state_path or state_path_from_env()
    run_id = run_id or default_run_id()
    con = open_store(state_path)
    try:
        epoch = state_epoch(con)
        with attached_warehouse(con, duckdb_path) as warehouse:
            relation = f"{warehouse}.{source}"
            if _nothing_to_send_or_remove(con, channel.name, relation):
                # A company without consents or rules that fire has no treatments yet: with nothing
                # ever sent there is nothing to delete either, so this is a quiet no-op, not an error.
                return SyncResult(channel.name, run_id, None, 0, ())
            run_date = latest_run_date(con, relation)
            current_rows = build_current(con, channel, run_date, relation)
        results = tuple(
            _sync_destination(con, channel, destination, run_id, run_date, epoch)
            for destination in destinations
        )
    finally:
        con.close()
    return SyncResult(
        channel=channel.name,
        run_id=run_id,
        source_run_date=run_date,
        current_rows=current_rows,
        destinations=results,
    )


def run_all_syncs(
    duckdb_path: Path | str, config: SyncConfig | None = None, run_id: str | None = None
) -> list[SyncResult]:
    """Every configured channel, one after the other (one writer at a time)."""
    config = config or load_config()
    run_id = run_id or default_run_id()
    return [
        run_channel_sync(duckdb_path, channel, None, run_id, state_path=config.state_path)
        for channel in config.channels.values()
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """python -m orchestration.syncs [--channel email] [--warehouse path] [--run-id id]"""
    import argparse
    import os

    from orchestration.dbt_cli import PROJECT_DIR

    parser = argparse.ArgumentParser(
        description="Sync activation.customer_treatments to the channels. State and log: the state "
        "store beside the exports (CIW_SYNC_STATE_PATH; docs/operations.md)."
    )
    parser.add_argument("--warehouse", default=os.environ.get("CIW_DUCKDB_PATH", "data/warehouse.duckdb"))
    parser.add_argument("--channel", action="append", help="only these channels (repeatable)")
    parser.add_argument("--config", default=None, help="destinations YAML (default: the package's)")
    parser.add_argument("--run-id", default=None)
    args = parser.parse_args(argv)
    warehouse = Path(args.warehouse)
    warehouse = warehouse if warehouse.is_absolute() else PROJECT_DIR / warehouse
    config = load_config(args.config)
    run_id = args.run_id or default_run_id()
    ok = True
    for name, channel in config.channels.items():
        if args.channel and name not in args.channel:
            continue
        result = run_channel_sync(warehouse, channel, None, run_id, state_path=config.state_path)
        for d in result.destinations:
            print(
                f"{name:6} {d.destination:5} {d.status:8} planned={d.planned} added={d.added} "
                f"changed={d.changed} removed={d.removed} failed={d.failed} -> {d.output}"
            )
        ok = ok and result.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
