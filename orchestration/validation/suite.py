"""What a validation suite is: per warehouse table, small frames and the expectations they must meet.

A `TableSuite` validates one table (one dbt asset, hence one Dagster asset check).
It reads the table through `Frame`s: each is one SQL query that returns a *small*
pandas frame (a capped sample of a few columns, or aggregates computed in DuckDB)
plus a function that builds the GX expectations for it from the thresholds. GX
then validates that frame with its pandas engine (its SQL engine is broken on
DuckDB: shared/STACK.md trap 3). The runner adds to every table a `keys` frame (its
declared keys unique and not null), a `volume` frame (its row count), a `source`
frame for staged tables (was the raw table provided?), and a drift frame per frame
that declares `Drift` metrics (compared with the previous run's figures).

Each frame is of one kind: `integrity` (keys, reconciliation, contracts, impossible
values, consent and holdout rules; its expectations are `critical`) or `shape`
(shares, mixes, sizes, medians; `warning`). The check policy is written down once,
at the top of orchestration/validation/thresholds.yml.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
from great_expectations.expectations import Expectation

Thresholds = Mapping[str, Any]

# Layers in pipeline order (the same names as the dbt layers in orchestration/defs/dbt/assets.py).
LAYER_ORDER: tuple[str, ...] = ("staging", "customer_360", "marts", "activation", "measurement")

CRITICAL = "critical"
WARNING = "warning"

# Frame kinds. Shape frames do not run on a staged table whose raw table was not provided.
INTEGRITY = "integrity"
SHAPE = "shape"

# Drift kinds: a share is compared in points (absolute difference), a count or a value
# (median, mean) by the factor between this run's figure and the previous run's.
SHARE = "share"
COUNT = "count"
VALUE = "value"

# The audit model listing every raw table of the contract and whether it was provided
# (written by staging). Absent in an older warehouse: every table counts as provided.
SOURCE_TABLES = "audit.audit__source_tables"


class Lookup:
    """Read-only questions a suite may ask the warehouse while building expectations
    (e.g. the stages listed in a seed). Always small results."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        self._sources: dict[str, dict[str, Any]] | None = None

    def table_exists(self, table: str) -> bool:
        schema, name = table.split(".")
        found = self._connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()
        return bool(found and found[0])

    def columns(self, table: str) -> list[str]:
        """The table's column names, in order ([] when it does not exist)."""
        schema, name = table.split(".")
        rows = self._connection.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, name],
        ).fetchall()
        return [row[0] for row in rows]

    def column_values(self, table: str, column: str) -> list[Any]:
        rows = self._connection.execute(f'select distinct "{column}" from {table} order by 1').fetchall()
        return [row[0] for row in rows]

    def scalar(self, sql: str) -> Any:
        row = self._connection.execute(sql).fetchone()
        return row[0] if row else None

    def source_table(self, raw_table: str) -> dict[str, Any] | None:
        """The audit row of a raw table (`source.table`), or None (no audit model, or not listed)."""
        if self._sources is None:
            self._sources = {}
            if self.table_exists(SOURCE_TABLES):
                cursor = self._connection.execute(f"select * from {SOURCE_TABLES}")
                columns = [d[0] for d in cursor.description]
                for values in cursor.fetchall():
                    row = dict(zip(columns, values, strict=True))
                    name = row.get("raw_table") or f"{row.get('source_name')}.{row.get('table_name')}"
                    self._sources[str(name)] = row
        return self._sources.get(raw_table)

    def provided(self, raw_table: str | None) -> bool:
        """Whether the raw table was provided; True when nothing says otherwise (older warehouse)."""
        row = self.source_table(raw_table) if raw_table else None
        if row is None or row.get("is_provided") is None:
            return True
        return bool(row["is_provided"])


ExpectationBuilder = Callable[[Thresholds, Lookup], Sequence[Expectation]]


@dataclass(frozen=True)
class Drift:
    """A figure of a frame compared with the previous run's: `column` of its single row, or of
    every row when `by` names the frame's category column (one figure per category)."""

    column: str
    kind: str  # SHARE | COUNT | VALUE
    by: str | None = None


@dataclass(frozen=True)
class Frame:
    """A small frame read from the warehouse and its expectations.

    `query(thresholds)` is its SQL; a query that depends on the table's columns (the consent
    flags of the shop's own channels, say) takes `query(thresholds, lookup)`.
    """

    name: str
    query: Callable[..., str]
    expectations: ExpectationBuilder
    description: str = ""
    kind: str = INTEGRITY
    drift: tuple[Drift, ...] = ()

    def sql(self, thresholds: Thresholds, lookup: Lookup) -> str:
        if len(inspect.signature(self.query).parameters) >= 2:
            return self.query(thresholds, lookup)
        return self.query(thresholds)


@dataclass(frozen=True)
class TableSuite:
    """The expectations on one warehouse table, `schema.name` (the dbt asset [schema, name])."""

    table: str
    layer: str
    description: str
    frames: tuple[Frame, ...]
    # Other tables the frames read (e.g. the staging reconciliation); a check waits for them.
    reads: tuple[str, ...] = ()
    # The volume frame (shape): fewer rows than this warns; the change since the last run is drift.
    min_rows: int = 1
    track_row_count: bool = True
    # Columns each unique and not null (the model's primary key, and any other unique key).
    keys: tuple[str, ...] = ()
    # For a staged table: its raw table `source.table`; volume and shape checks do not run
    # when audit.audit__source_tables says it was not provided.
    raw_table: str | None = None

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    @property
    def asset_key_path(self) -> list[str]:
        return [self.schema, self.name]

    def suite_name(self, frame: str) -> str:
        """The GX expectation suite's name for one frame of this table."""
        return f"{self.table}.{frame}"


def layer_rank(layer: str) -> int:
    return LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)
