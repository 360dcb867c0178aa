"""Print what a build produced: where it is, what it holds, what was refused.

`make demo` ends with this so a newcomer sees at once that the pipeline ran,
how many rows each layer holds and whether staging lost anything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

# Layers in pipeline order; a layer not built yet is simply skipped.
LAYER_SCHEMAS = ("staging", "customer_360", "marts", "activation", "measurement")


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return connection.execute(sql).fetchall()


def _table_exists(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    found = _rows(
        connection,
        f"select count(*) from information_schema.tables where table_schema = '{schema}' "
        f"and table_name = '{name}'",
    )
    return found[0][0] > 0


def _format_table(headers: list[str], rows: list[tuple]) -> str:
    cells = [headers] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  " + "  ".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def summarize(database_path: Path, raw_path: Path | None = None) -> str:
    """Return the summary text for the warehouse at database_path."""
    if not database_path.exists():
        raise FileNotFoundError(f"No warehouse at {database_path}: run `make demo` (or `make build`) first.")
    connection = duckdb.connect(str(database_path), read_only=True)
    try:
        out: list[str] = ["Customer intelligence warehouse", f"  warehouse: {database_path}"]
        if raw_path is not None:
            out.append(f"  raw files: {raw_path}")

        if _table_exists(connection, "staging", "stg_audit__as_of"):
            as_of, as_of_source = _rows(
                connection, "select as_of_date, as_of_source from staging.stg_audit__as_of"
            )[0]
            out.append(f"  as-of date: {as_of} ({as_of_source})")

        out.append("\nRows per layer")
        layer_rows = []
        for schema in LAYER_SCHEMAS:
            relations = _rows(
                connection,
                "select table_name from information_schema.tables "
                f"where table_schema = '{schema}' order by table_name",
            )
            for (name,) in relations:
                if name.startswith("base_"):
                    continue  # internal to staging; the reconciliation below covers them
                count = _rows(connection, f'select count(*) from "{schema}"."{name}"')[0][0]
                layer_rows.append((schema, name, count))
        out.append(_format_table(["layer", "model", "rows"], layer_rows))

        if _table_exists(connection, "staging", "stg_audit__row_reconciliation"):
            reconciliation = _rows(
                connection,
                "select raw_table, raw_rows, staged_rows, quarantined_rows, "
                "case when is_balanced then 'yes' else 'NO' end "
                "from staging.stg_audit__row_reconciliation order by raw_table",
            )
            out.append("\nStaging invariant: raw rows = staged + quarantined")
            headers = ["raw table", "raw", "staged", "quarantined", "balanced"]
            out.append(_format_table(headers, reconciliation))
            reasons = _rows(
                connection,
                "select quarantine_reason, count(*) from staging.stg_audit__quarantine "
                "group by 1 order by 2 desc, 1",
            )
            if reasons:
                out.append("\nQuarantined rows by reason (staging.stg_audit__quarantine)")
                out.append(_format_table(["reason", "rows"], reasons))
            drift = _rows(
                connection,
                "select distinct source_name || '.' || table_name, column_name "
                "from staging.stg_audit__raw_schema where column_status = 'unknown' order by 1, 2",
            )
            if drift:
                out.append("\nUnknown raw columns, ignored (staging.stg_audit__raw_schema)")
                out.append(_format_table(["raw table", "column"], drift))
        if _table_exists(connection, "customer_360", "identity_components"):
            identity = _rows(
                connection,
                "select sum(case when is_known_customer then 1 else 0 end), "
                "sum(case when is_known_customer then 0 else 1 end), "
                "sum(case when shop_accounts > 1 then 1 else 0 end), "
                "sum(case when is_oversized then 1 else 0 end) "
                "from customer_360.identity_components",
            )[0]
            out.append("\nIdentity resolution (customer_360.identity_components)")
            out.append(
                _format_table(
                    ["known customers", "anonymous visitors", "with several accounts", "oversized"],
                    [identity],
                )
            )
        return "\n".join(out)
    finally:
        connection.close()


def main() -> int:
    database_path = Path(os.environ.get("CIW_DUCKDB_PATH", "data/warehouse.duckdb")).resolve()
    raw_path = Path(os.environ.get("CIW_RAW_DATA_PATH", "data/raw")).resolve()
    try:
        print(summarize(database_path, raw_path))
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
