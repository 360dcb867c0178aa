"""What a validation suite is: per warehouse table, small frames and the expectations they must meet.

A `TableSuite` validates one table (one dbt asset, hence one Dagster asset check).
It reads the table through `Frame`s: each is one SQL query that returns a *small*
pandas frame (a capped sample of a few columns, or aggregates computed in DuckDB)
plus a function that builds the GX expectations for it from the thresholds. GX
then validates that frame with its pandas engine (its SQL engine is broken on
DuckDB: shared/STACK.md trap 3). Every table also gets a `volume` frame from the
runner: its row count against the last passing run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
from great_expectations.expectations import Expectation

Thresholds = Mapping[str, Any]

# Layers in pipeline order (the same names as the dbt layers in orchestration/dbt/assets.py).
LAYER_ORDER: tuple[str, ...] = ("staging", "customer_360", "marts", "activation", "measurement")

CRITICAL = "critical"
WARNING = "warning"


class Lookup:
    """Read-only questions a suite may ask the warehouse while building expectations
    (e.g. the stages listed in a seed). Always small results."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection

    def table_exists(self, table: str) -> bool:
        schema, name = table.split(".")
        found = self._connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()
        return bool(found and found[0])

    def column_values(self, table: str, column: str) -> list[Any]:
        rows = self._connection.execute(f'select distinct "{column}" from {table} order by 1').fetchall()
        return [row[0] for row in rows]

    def scalar(self, sql: str) -> Any:
        row = self._connection.execute(sql).fetchone()
        return row[0] if row else None


ExpectationBuilder = Callable[[Thresholds, Lookup], Sequence[Expectation]]


@dataclass(frozen=True)
class Frame:
    """A small frame read from the warehouse (`query(thresholds)` is its SQL) and its expectations."""

    name: str
    query: Callable[[Thresholds], str]
    expectations: ExpectationBuilder
    description: str = ""


@dataclass(frozen=True)
class TableSuite:
    """The expectations on one warehouse table, `schema.name` (the dbt asset [schema, name])."""

    table: str
    layer: str
    description: str
    frames: tuple[Frame, ...]
    # Other tables the frames read (e.g. the staging reconciliation); a check waits for them.
    reads: tuple[str, ...] = ()
    # The volume frame: fewer rows than this fails critically; change since the last run is checked.
    min_rows: int = 1
    track_row_count: bool = True

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
