"""What a destination must be told: the channel's current rows against what it last acknowledged.

The current rows are the latest run of activation.customer_treatments for one channel, holdouts
excluded, projected to the mapped fields. Each row has a key (the channel's key columns, as a
JSON object of source names, so renaming a field does not change identities) and a hash of its
mapped fields (renaming or adding a field does change it: the tool's view of the row changed).
Against sync_state of that destination (the state store, orchestration/syncs/state.py):

- added: a key the destination does not have (never sent, or deleted since);
- changed: a key it has, with another hash;
- removed: a key it has that is no longer current; sent as a deletion with the key fields only.

Deletions go first, then changes, then additions, so a customer whose treatment changes within a
channel never holds two memberships at the destination. The plan is a temporary table, computed
again by every sync: after a crash, whatever the destination acknowledged is in sync_state and is
not planned again. `source` is the activation relation as the caller reaches it (the warehouse
attached read-only to the store's connection); everything after build_current reads temp tables
and the store only.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from orchestration.syncs.config import ChannelConfig
from orchestration.syncs.state import SourceError

SOURCE_RELATION = "activation.customer_treatments"
CHANGES = ("added", "changed", "removed")
__all__ = ["SOURCE_RELATION", "Plan", "PlannedRow", "SourceError"]


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
    life_id: str  # made when the key was (last) added; survives changes, not a deletion
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


def build_plan(
    con: duckdb.DuckDBPyConnection, channel: ChannelConfig, destination: str, sync_id: str
) -> Plan:
    """Diff _sync_current against the destination's state into temp table _sync_plan.

    The plan carries the mapped fields, so each batch reads one table, in seq order (its zone
    maps skip the rest) instead of joining the channel's rows again. A key added now gets a life
    id made from this sync's id, unless an earlier sync planned the same addition and no
    acknowledgement reached the state (its row is still pending): then the earlier life id, and
    so the same idempotency key, is reused. Whatever is left pending for this destination is
    cleared once the plan holds it.
    """
    fields = ", ".join(f"c.{_quote(field)}" for field in channel.columns.values())
    where = {"channel": channel.name, "destination": destination}
    con.execute(
        f"""
        create or replace temp table _sync_plan as
        with state as (
            select row_key, row_hash, version, life_id
            from sync_state
            where channel = $channel and destination = $destination
        ),
        inherited as (
            select row_key, min(life_id) as life_id
            from sync_pending
            where channel = $channel and destination = $destination and change = 'added'
            group by row_key
        ),
        changes as (
            select
                c.row_key,
                c.row_hash,
                coalesce(s.version, 0) as base_version,
                coalesce(s.life_id, i.life_id, left(sha256($sync_id || '|' || c.row_key), 16)) as life_id,
                case when s.row_key is null then 'added' else 'changed' end as change
            from _sync_current as c
            left join state as s on c.row_key = s.row_key
            left join inherited as i on c.row_key = i.row_key
            where s.row_key is null or s.row_hash <> c.row_hash
            union all
            select s.row_key, null as row_hash, s.version as base_version, s.life_id, 'removed' as change
            from state as s
            where not exists (select 1 from _sync_current as c where c.row_key = s.row_key)
        )
        select
            row_number() over (
                order by case p.change when 'removed' then 0 when 'changed' then 1 else 2 end, p.row_key
            ) as seq,
            p.row_key,
            p.row_hash,
            p.base_version,
            p.life_id,
            p.change,
            {fields}
        from changes as p
        left join _sync_current as c on p.row_key = c.row_key
        order by seq
        """,
        {**where, "sync_id": sync_id},
    )
    con.execute("delete from sync_pending where channel = $channel and destination = $destination", where)
    counts = dict(con.execute("select change, count(*) from _sync_plan group by change").fetchall())
    return Plan(**{change: int(counts.get(change, 0)) for change in CHANGES})


def idempotency_key(
    epoch: str,
    channel: str,
    destination: str,
    row_key: str,
    life_id: str,
    version: int,
    row_hash: str | None,
) -> str:
    """Same change of the same key -> same id, whichever sync (first try, retry, resume) sends it.

    The version grows with every acknowledged change of a key, so a row that returns to an
    earlier content (A -> B -> A) gets a new id. A deletion removes the key's state (no
    tombstone), so a key added again starts at version 1 once more: its new life id keeps
    those ids apart from its earlier life's. The epoch keeps ids apart when the state store
    is created from scratch.
    """
    text = "|".join((epoch, channel, destination, row_key, life_id, str(version), row_hash or "delete"))
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
        select seq, row_key, change, row_hash, base_version, life_id, {selected}
        from _sync_plan
        where seq between ? and ?
        order by seq
        """,
        [first_seq, last_seq],
    ).fetchall()
    rows = []
    for seq, row_key, change, row_hash, base_version, life_id, *values in result:
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
                life_id=life_id,
                idempotency_key=idempotency_key(
                    epoch, channel.name, destination, row_key, life_id, version, row_hash
                ),
                key=key,
                fields=None
                if change == "removed"
                else {field: to_json_value(value) for field, value in zip(fields, values, strict=True)},
            )
        )
    return rows


def _apply_sql(source_select: str) -> tuple[str, str]:
    """Statements that move the state to what the destination acknowledged for `source_select`'s rows:
    additions and changes upserted, deletions removed (no tombstone)."""
    upsert = f"""
        insert into sync_state (
            channel, destination, row_key, row_hash, version, life_id, last_change,
            last_sync_id, last_run_id, source_run_date, synced_at
        )
        select
            $channel, $destination, row_key, row_hash, base_version + 1, life_id, change,
            $sync_id, $run_id, $run_date, $synced_at
        from ({source_select}) as acknowledged
        where change <> 'removed'
        on conflict (channel, destination, row_key) do update set
            row_hash = excluded.row_hash,
            version = excluded.version,
            life_id = excluded.life_id,
            last_change = excluded.last_change,
            last_sync_id = excluded.last_sync_id,
            last_run_id = excluded.last_run_id,
            source_run_date = excluded.source_run_date,
            synced_at = excluded.synced_at
    """
    delete = f"""
        delete from sync_state
        where channel = $channel and destination = $destination
            and row_key in (select row_key from ({source_select}) as acknowledged where change = 'removed')
    """
    return upsert, delete


def _execute_named(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> None:
    """Execute with the named parameters the statement uses (DuckDB refuses unused ones)."""
    used = set(re.findall(r"\$([a-z_]+)", sql))
    con.execute(sql, {name: value for name, value in params.items() if name in used})


def record_acknowledged(con: duckdb.DuckDBPyConnection, seqs: list[int], params: dict[str, Any]) -> None:
    """Move the state of planned rows `seqs` to what the destination now holds; unpend them."""
    if not seqs:
        return
    selected = "select row_key, row_hash, base_version, life_id, change from _sync_plan where list_contains($seqs, seq)"
    for statement in _apply_sql(selected):
        _execute_named(con, statement, {**params, "seqs": seqs})
    con.execute(
        "delete from sync_pending where sync_id = $sync_id and row_key in "
        "(select row_key from _sync_plan where list_contains($seqs, seq))",
        {"sync_id": params["sync_id"], "seqs": seqs},
    )


def save_pending(con: duckdb.DuckDBPyConnection, sync_id: str, channel: str, destination: str) -> None:
    """Keep the whole plan until the destination confirms it (file: once published; HTTP: per batch)."""
    con.execute(
        """
        insert into sync_pending (sync_id, channel, destination, row_key, row_hash, base_version, life_id, change)
        select ?, ?, ?, row_key, row_hash, base_version, life_id, change from _sync_plan
        """,
        [sync_id, channel, destination],
    )


def confirm_pending(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> dict[str, int]:
    """Apply a file sync's pending rows to the state, drop them; return counts per change."""
    counts = dict(
        con.execute(
            "select change, count(*) from sync_pending where sync_id = $sync_id group by change",
            {"sync_id": params["sync_id"]},
        ).fetchall()
    )
    selected = (
        "select row_key, row_hash, base_version, life_id, change from sync_pending where sync_id = $sync_id"
    )
    for statement in _apply_sql(selected):
        _execute_named(con, statement, params)
    discard_pending(con, params["sync_id"])
    return {change: int(counts.get(change, 0)) for change in CHANGES}


def discard_pending(con: duckdb.DuckDBPyConnection, sync_id: str) -> None:
    con.execute("delete from sync_pending where sync_id = ?", [sync_id])
