"""What a destination must be told: the channel's current rows against what it last acknowledged.

The current rows are the latest run of activation.customer_treatments for one channel, holdouts
excluded, projected to the mapped fields. Each row has a key (the channel's key columns, as a
JSON object of source names, so renaming a field does not change identities) and a hash of its
mapped fields (renaming or adding a field does change it: the tool's view of the row changed).
Against reverse_etl.sync_state of that destination:

- added: a key the destination does not have (never sent, or deleted since);
- changed: a key it has, with another hash;
- removed: a key it has that is no longer current; sent as a deletion with the key fields only.

Deletions go first, then changes, then additions, so a customer whose treatment changes within a
channel never holds two memberships at the destination. The plan is a temporary table, computed
again by every sync: after a crash, whatever the destination acknowledged is in sync_state and is
not planned again.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from orchestration.syncs.config import ChannelConfig
from orchestration.syncs.warehouse import SCHEMA

SOURCE_RELATION = "activation.customer_treatments"
CHANGES = ("added", "changed", "removed")


class SourceError(RuntimeError):
    """The activation table is missing, empty or breaks the key the channel relies on."""


@dataclass(frozen=True)
class Plan:
    added: int
    changed: int
    removed: int

    @property
    def rows(self) -> int:
        return self.added + self.changed + self.removed


@dataclass(frozen=True)
class PlannedRow:
    """One row to deliver, with everything a destination and the state need."""

    seq: int
    row_key: str
    change: str  # added | changed | removed
    row_hash: str | None  # None for deletions
    version: int  # the key's version once this change is acknowledged
    idempotency_key: str
    key: dict[str, Any]  # destination field -> value
    fields: dict[str, Any] | None  # every mapped field; None for deletions

    @property
    def op(self) -> str:
        return "delete" if self.change == "removed" else "upsert"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def latest_run_date(con: duckdb.DuckDBPyConnection, source: str = SOURCE_RELATION) -> date:
    """The run the channels get: the table may keep earlier runs, only the newest is current."""
    try:
        row = con.execute(f"select max(run_date) from {source}").fetchone()
    except duckdb.CatalogException as exc:
        raise SourceError(f"{source} does not exist: build the activation models first") from exc
    if row is None or row[0] is None:
        # An empty table would read as "delete everything everywhere": refuse instead.
        raise SourceError(f"{source} has no rows: refusing to sync (it would delete every row)")
    return row[0]


def build_current(
    con: duckdb.DuckDBPyConnection,
    channel: ChannelConfig,
    run_date: date,
    source: str = SOURCE_RELATION,
) -> int:
    """Materialise the channel's current rows as temp table _sync_current; return their count."""
    key_json = ", ".join(f"{_literal(column)}, {_quote(column)}" for column in channel.key)
    hash_json = ", ".join(f"{_literal(field)}, {_quote(column)}" for column, field in channel.columns.items())
    fields = ", ".join(f"{_quote(column)} as {_quote(field)}" for column, field in channel.columns.items())
    con.execute(
        f"""
        create or replace temp table _sync_current as
        select
            cast(json_object({key_json}) as varchar) as row_key,
            sha256(cast(json_object({hash_json}) as varchar)) as row_hash,
            {fields}
        from {source}
        where run_date = ?
            and channel = ?
            -- a row whose holdout flag is unknown is treated as held out: never sent
            and coalesce(is_holdout, true) = false
        """,
        [run_date, channel.name],
    )
    duplicates = con.execute(
        "select row_key, count(*) from _sync_current group by row_key having count(*) > 1 order by 1 limit 3"
    ).fetchall()
    if duplicates:
        raise SourceError(
            f"channel {channel.name!r}: key {list(channel.key)} is not unique in run {run_date} "
            f"(e.g. {duplicates}); the tool could not tell these rows apart"
        )
    return int(con.execute("select count(*) from _sync_current").fetchone()[0])


def build_plan(con: duckdb.DuckDBPyConnection, channel: ChannelConfig, destination: str) -> Plan:
    """Diff _sync_current against the destination's state into temp table _sync_plan.

    The plan carries the mapped fields, so each batch reads one table, in seq order (its zone
    maps skip the rest) instead of joining the channel's rows again.
    """
    fields = ", ".join(f"c.{_quote(field)}" for field in channel.columns.values())
    con.execute(
        f"""
        create or replace temp table _sync_plan as
        with state as (
            select row_key, row_hash, is_deleted, version
            from {SCHEMA}.sync_state
            where channel = $channel and destination = $destination
        ),
        changes as (
            select
                c.row_key,
                c.row_hash,
                coalesce(s.version, 0) as base_version,
                case when s.row_key is null or s.is_deleted then 'added' else 'changed' end as change
            from _sync_current as c
            left join state as s on c.row_key = s.row_key
            where s.row_key is null or s.is_deleted or s.row_hash <> c.row_hash
            union all
            select s.row_key, null as row_hash, s.version as base_version, 'removed' as change
            from state as s
            where not s.is_deleted
                and not exists (select 1 from _sync_current as c where c.row_key = s.row_key)
        )
        select
            row_number() over (
                order by case p.change when 'removed' then 0 when 'changed' then 1 else 2 end, p.row_key
            ) as seq,
            p.row_key,
            p.row_hash,
            p.base_version,
            p.change,
            {fields}
        from changes as p
        left join _sync_current as c on p.row_key = c.row_key
        order by seq
        """,
        {"channel": channel.name, "destination": destination},
    )
    counts = dict(con.execute("select change, count(*) from _sync_plan group by change").fetchall())
    return Plan(**{change: int(counts.get(change, 0)) for change in CHANGES})


def idempotency_key(
    epoch: str, channel: str, destination: str, row_key: str, version: int, row_hash: str | None
) -> str:
    """Same change of the same key -> same id, whichever sync (first try, retry, resume) sends it.

    The version grows with every acknowledged change of a key, so a row that returns to an
    earlier content (A -> B -> A) or is re-added after a deletion gets a new id; the epoch keeps
    ids apart when the state is rebuilt from scratch.
    """
    text = "|".join((epoch, channel, destination, row_key, str(version), row_hash or "delete"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def to_json_value(value: Any) -> Any:
    """JSON-ready values: ISO dates and timestamps, floats for decimals, null for NaN/inf
    (which json.dumps would write as invalid JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def fetch_planned(
    con: duckdb.DuckDBPyConnection,
    channel: ChannelConfig,
    destination: str,
    epoch: str,
    first_seq: int,
    last_seq: int,
) -> list[PlannedRow]:
    """Planned rows first_seq..last_seq, in delivery order, ready to send."""
    fields = list(channel.columns.values())
    selected = ", ".join(_quote(field) for field in fields)
    result = con.execute(
        f"""
        select seq, row_key, change, row_hash, base_version, {selected}
        from _sync_plan
        where seq between ? and ?
        order by seq
        """,
        [first_seq, last_seq],
    ).fetchall()
    rows = []
    for seq, row_key, change, row_hash, base_version, *values in result:
        key_source = json.loads(row_key)
        key = {channel.columns[column]: key_source[column] for column in channel.key}
        version = int(base_version) + 1
        rows.append(
            PlannedRow(
                seq=int(seq),
                row_key=row_key,
                change=change,
                row_hash=row_hash,
                version=version,
                idempotency_key=idempotency_key(epoch, channel.name, destination, row_key, version, row_hash),
                key=key,
                fields=None
                if change == "removed"
                else {field: to_json_value(value) for field, value in zip(fields, values, strict=True)},
            )
        )
    return rows


def _upsert_state_sql(source_select: str) -> str:
    return f"""
        insert into {SCHEMA}.sync_state (
            channel, destination, row_key, row_hash, is_deleted, version, last_change,
            last_sync_id, last_run_id, source_run_date, synced_at
        )
        select
            $channel, $destination, row_key, row_hash, change = 'removed', base_version + 1, change,
            $sync_id, $run_id, $run_date, $synced_at
        from ({source_select})
        on conflict (channel, destination, row_key) do update set
            row_hash = excluded.row_hash,
            is_deleted = excluded.is_deleted,
            version = excluded.version,
            last_change = excluded.last_change,
            last_sync_id = excluded.last_sync_id,
            last_run_id = excluded.last_run_id,
            source_run_date = excluded.source_run_date,
            synced_at = excluded.synced_at
    """


def record_acknowledged(con: duckdb.DuckDBPyConnection, seqs: list[int], params: dict[str, Any]) -> None:
    """Move the state of planned rows `seqs` to what the destination now holds."""
    if not seqs:
        return
    con.execute(
        _upsert_state_sql(
            "select row_key, row_hash, base_version, change from _sync_plan where list_contains($seqs, seq)"
        ),
        {**params, "seqs": seqs},
    )


def save_pending(con: duckdb.DuckDBPyConnection, sync_id: str) -> None:
    """Keep the whole plan of a file sync, to confirm it after the file is in place."""
    con.execute(
        f"""
        insert into {SCHEMA}.sync_pending (sync_id, row_key, row_hash, base_version, change)
        select ?, row_key, row_hash, base_version, change from _sync_plan
        """,
        [sync_id],
    )


def confirm_pending(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> dict[str, int]:
    """Apply a file sync's pending rows to the state, drop them; return counts per change."""
    counts = dict(
        con.execute(
            f"select change, count(*) from {SCHEMA}.sync_pending where sync_id = $sync_id group by change",
            {"sync_id": params["sync_id"]},
        ).fetchall()
    )
    con.execute(
        _upsert_state_sql(
            f"select row_key, row_hash, base_version, change from {SCHEMA}.sync_pending "
            "where sync_id = $sync_id"
        ),
        params,
    )
    discard_pending(con, params["sync_id"])
    return {change: int(counts.get(change, 0)) for change in CHANGES}


def discard_pending(con: duckdb.DuckDBPyConnection, sync_id: str) -> None:
    con.execute(f"delete from {SCHEMA}.sync_pending where sync_id = ?", [sync_id])
