"""SQL for the small frames GX validates: how a large table is read in bounded memory.

Three shapes, chosen per check:
- `sample`: column projection plus a deterministic sample capped at `sampling.max_rows`
  rows: the rows with the smallest hash of the key. DuckDB keeps only a top-N heap, so
  memory is (max_rows x projected columns) whatever the table's size, and the same data
  always gives the same sample. For distributions and value ranges where a sample suffices.
- `shares`: one row per category with its row count and share, computed in DuckDB.
- `aggregate`: one row of named aggregates computed in DuckDB over the whole table
  (exact counts of out-of-range rows, medians): exact where a sample could miss one bad row.

The SQL is DuckDB's: validation reads the DuckDB warehouse file. A Spark deployment
would give these three functions Spark SQL bodies; the suites would not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestration.validation.suite import Thresholds


def max_sample_rows(thresholds: Thresholds) -> int:
    return int(thresholds["sampling"]["max_rows"])


def sample(table: str, columns: Sequence[str], key: str, limit: int) -> str:
    """The projected columns of at most `limit` rows, picked by the hash of `key`."""
    projected = ", ".join(f'"{column}"' for column in columns)
    return f'select {projected} from {table} order by hash("{key}"), "{key}" limit {int(limit)}'


def shares(table: str, column: str, where: str | None = None) -> str:
    """One row per value of `column` (nulls as one value): rows and share of the table."""
    condition = f" where {where}" if where else ""
    return (
        f'select "{column}", count(*) as row_count, '
        f"count(*) / sum(count(*)) over () as share "
        f"from {table}{condition} group by 1 order by 1"
    )


def aggregate(table: str, expressions: Mapping[str, str], where: str | None = None) -> str:
    """One row: each named SQL aggregate over the table."""
    condition = f" where {where}" if where else ""
    selected = ", ".join(f'{expression} as "{name}"' for name, expression in expressions.items())
    return f"select {selected} from {table}{condition}"
