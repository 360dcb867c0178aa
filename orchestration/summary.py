"""Print what a build produced: where it is, what it holds, what was refused, what was checked.

`make demo` ends with this so a newcomer sees at once that the pipeline ran,
how many rows each layer holds, whether staging lost anything and which checks
passed. Sections for the marts and activation appear once their tables exist.
It imports no Dagster: the demo hands it a `RunReport` of its Dagster run; alone
(`make summary`) it shows the latest Great Expectations results stored beside the warehouse.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.statistics.clv.diagnostics import summary_line
from orchestration.validation.connection import read_only_connection

# Layers in pipeline order; a layer not built yet is simply skipped.
LAYER_SCHEMAS = ("staging", "audit", "customer_360", "marts", "activation", "measurement")


@dataclass(frozen=True)
class CheckFailure:
    """A check that did not pass: `asset/key:check_name`, ERROR or WARN, and what it saw."""

    check: str
    severity: str
    description: str


@dataclass(frozen=True)
class RunReport:
    """What one Dagster run did, reduced to plain numbers (filled by orchestration.demo)."""

    run_id: str
    success: bool
    assets_planned: int
    assets_materialized: int
    dbt_tests_passed: int
    dbt_tests_failed: int
    gx_passed: int
    gx_warned: int
    gx_failed: int
    checks_not_run: int
    failures: tuple[CheckFailure, ...] = ()
    failed_steps: tuple[str, ...] = ()
    skipped_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Locations:
    """Where a person finds what the build produced."""

    warehouse: Path
    raw: Path | None = None
    validation: Path | None = None
    exports: Path | None = None


def default_locations() -> Locations:
    """The paths make/Dagster use, from the same environment variables, relative to the project."""
    project = Path(__file__).resolve().parents[1]

    def from_env(name: str, default: str) -> Path:
        path = Path(os.environ.get(name) or default)
        return path if path.is_absolute() else project / path

    warehouse = from_env("CIW_DUCKDB_PATH", "data/warehouse.duckdb")
    validation = (
        from_env("CIW_VALIDATION_PATH", "")
        if os.environ.get("CIW_VALIDATION_PATH")
        else warehouse.parent / "validation"
    )
    return Locations(
        warehouse=warehouse,
        raw=from_env("CIW_RAW_DATA_PATH", "data/raw"),
        validation=validation,
        exports=from_env("CIW_SYNC_EXPORTS_PATH", "data/exports"),
    )


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return connection.execute(sql).fetchall()


def _table_exists(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    found = _rows(
        connection,
        f"select count(*) from information_schema.tables where table_schema = '{schema}' "
        f"and table_name = '{name}'",
    )
    return found[0][0] > 0


def _has_columns(connection: duckdb.DuckDBPyConnection, schema: str, name: str, columns: list[str]) -> bool:
    """Whether the table exists with these columns: a section shows only for tables that are built."""
    found = {
        row[0]
        for row in _rows(
            connection,
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{name}'",
        )
    }
    return bool(found) and set(columns) <= found


def _share(part: float | None, whole: float | None) -> str:
    return f"{100.0 * (part or 0) / whole:.1f}%" if whole else ""


def _format_table(headers: list[str], rows: list[tuple]) -> str:
    cells = [headers] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  " + "  ".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def summarize(
    database_path: Path,
    raw_path: Path | None = None,
    run: RunReport | None = None,
    locations: Locations | None = None,
) -> str:
    """Return the summary text for the warehouse at database_path (and the run that built it)."""
    if not database_path.exists():
        raise FileNotFoundError(f"No warehouse at {database_path}: run `make demo` (or `make build`) first.")
    locations = locations or Locations(warehouse=database_path, raw=raw_path)
    connection = read_only_connection(database_path)
    try:
        out: list[str] = ["Customer intelligence warehouse", f"  warehouse: {database_path}"]
        if raw_path is not None:
            out.append(f"  raw files: {raw_path}")
        out.extend(_location_lines(locations))

        if _table_exists(connection, "audit", "audit__as_of"):
            as_of, as_of_source = _rows(
                connection, "select as_of_date, as_of_source from audit.audit__as_of"
            )[0]
            out.append(f"  as-of date: {as_of} ({as_of_source})")
        if run is not None:
            out.append(_run_section(run))

        out.extend(_source_lines(connection))
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

        if _table_exists(connection, "audit", "audit__row_reconciliation"):
            reconciliation = _rows(
                connection,
                "select raw_table, raw_rows, staged_rows, quarantined_rows, "
                "case when is_balanced then 'yes' else 'NO' end "
                "from audit.audit__row_reconciliation order by raw_table",
            )
            out.append("\nStaging invariant: raw rows = staged + quarantined")
            headers = ["raw table", "raw", "staged", "quarantined", "balanced"]
            out.append(_format_table(headers, reconciliation))
            reasons = _rows(
                connection,
                "select quarantine_reason, count(*) from audit.audit__quarantine "
                "group by 1 order by 2 desc, 1",
            )
            if reasons:
                out.append("\nQuarantined rows by reason (audit.audit__quarantine)")
                out.append(_format_table(["reason", "rows"], reasons))
            drift = _rows(
                connection,
                "select distinct source_name || '.' || table_name, column_name "
                "from audit.audit__raw_schema where column_status = 'unknown' order by 1, 2",
            )
            if drift:
                out.append("\nUnknown raw columns, ignored (audit.audit__raw_schema)")
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
        out.extend(_mart_sections(connection))
        out.append(_checks_section(run, locations.validation))
        return "\n".join(out)
    finally:
        connection.close()


def _location_lines(locations: Locations) -> list[str]:
    lines = []
    if locations.validation is not None:
        docs = locations.validation / "data_docs" / "index.html"
        lines.append(f"  data docs: {docs}" + ("" if docs.exists() else " (not built yet)"))
    if locations.exports is not None:
        lines.append(
            f"  exports:   {locations.exports}" + ("" if locations.exports.exists() else " (none yet)")
        )
    return lines


def _run_section(run: RunReport) -> str:
    status = "succeeded" if run.success else "FAILED"
    lines = [
        f"\nDagster run {run.run_id}: {status}",
        f"  assets materialised: {run.assets_materialized} of {run.assets_planned}",
    ]
    if run.failed_steps:
        lines.append(f"  failed steps: {', '.join(run.failed_steps)}")
    if run.skipped_steps:
        lines.append(f"  skipped (downstream of a failure): {', '.join(run.skipped_steps)}")
    return "\n".join(lines)


def _distribution(
    connection: duckdb.DuckDBPyConnection, title: str, table: str, label: str, order_by: str
) -> list[str]:
    rows = _rows(
        connection,
        f"select {label}, count(*), count(*) / sum(count(*)) over () "
        f"from {table} group by {label} order by {order_by}",
    )
    return [
        f"\n{title} ({table})",
        _format_table(["", "customers", "share"], [(r[0], r[1], _share(r[2], 1)) for r in rows]),
    ]


def _source_lines(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Which raw tables the build was given: most companies bring some sources, not all."""
    if not _has_columns(connection, "audit", "audit__source_tables", ["raw_table", "is_provided"]):
        return []
    rows = _rows(
        connection,
        "select raw_table, is_provided from audit.audit__source_tables order by raw_table",
    )
    provided = [name for name, is_provided in rows if is_provided]
    missing = [name for name, is_provided in rows if not is_provided]
    lines = [f"  raw tables provided: {', '.join(provided) or 'none'}"]
    if missing:
        lines.append(f"  not provided (empty; their features are null): {', '.join(missing)}")
    return lines


def _revenue_lines(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Identified vs anonymous revenue: customer-level marts count only the first."""
    columns = ["net_revenue", "unidentified_net_revenue", "unidentified_orders_count", "reporting_currency"]
    if not _has_columns(connection, "marts", "value_revenue_totals", columns):
        return []
    total, unidentified, orders, currency = _rows(
        connection,
        "select net_revenue, unidentified_net_revenue, unidentified_orders_count, reporting_currency "
        "from marts.value_revenue_totals",
    )[0]
    unit = f" {currency}" if currency else ""
    return [
        "\nRevenue (marts.value_revenue_totals)",
        f"  net revenue {float(total or 0):,.2f}{unit}; unidentified (anonymous purchases, "
        f"not in customer-level marts) {float(unidentified or 0):,.2f}{unit} "
        f"({_share(float(unidentified or 0), float(total or 0)) or '0.0%'}, {orders:,} orders)",
    ]


def _mart_sections(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Revenue; customers per value tier, needs segment and lifecycle stage; treatments per channel."""
    out: list[str] = _revenue_lines(connection)
    if _has_columns(connection, "marts", "customer_value", ["value_tier", "value_tier_rank"]):
        out += _distribution(
            connection,
            "Customers per value tier",
            "marts.customer_value",
            "value_tier",
            "min(value_tier_rank)",
        )
    out += _clv_fit_lines(connection)
    if _has_columns(connection, "marts", "customer_needs", ["persona_name"]):
        out += _distribution(
            connection, "Customers per needs segment", "marts.customer_needs", "persona_name", "2 desc, 1"
        )
    if _has_columns(connection, "marts", "customer_lifecycle", ["lifecycle_stage"]):
        # In the seed's order when the seed says it, else largest first.
        order = (
            "(select min(stage_order) from reference.lifecycle_stages s "
            "where s.lifecycle_stage = customer_lifecycle.lifecycle_stage), 1"
            if _has_columns(connection, "reference", "lifecycle_stages", ["lifecycle_stage", "stage_order"])
            else "2 desc, 1"
        )
        out += _distribution(
            connection, "Customers per lifecycle stage", "marts.customer_lifecycle", "lifecycle_stage", order
        )
    if _has_columns(connection, "activation", "customer_treatments", ["channel", "is_holdout"]):
        rows = _rows(
            connection,
            "select channel, count(*), sum(case when is_holdout then 1 else 0 end) "
            "from activation.customer_treatments group by 1 order by 2 desc, 1",
        )
        total = sum(r[1] for r in rows)
        held_out = sum(r[2] for r in rows)
        out.append("\nTreatments per channel (activation.customer_treatments)")
        out.append(
            _format_table(
                ["channel", "treatments", "held out", "holdout share"],
                [(r[0], r[1], r[2], _share(r[2], r[1])) for r in rows]
                + [("all", total, held_out, _share(held_out, total))],
            )
        )
    return out


def _clv_fit_lines(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The latest CLV fits' status; a loud line for each one that is not ok (see clv_model_fit)."""
    if not _has_columns(
        connection, "marts", "clv_model_fit", ["model_name", "fit_status", "fit_diagnostics"]
    ):
        return []
    latest = _rows(
        connection,
        "select model_name, coalesce(fit_status, 'ok'), fit_diagnostics from ("
        "select model_name, model_role, fit_status, fit_diagnostics, row_number() over "
        "(partition by model_name order by as_of_date desc, fitted_at desc) as fit_rank "
        "from marts.clv_model_fit) where fit_rank = 1 order by model_role, model_name",
    )
    lines = [
        "\nCLV fits (marts.clv_model_fit): " + ", ".join(f"{name} {status}" for name, status, _ in latest)
    ]
    for name, status, diagnostics in latest:
        line = summary_line(name, status, diagnostics)
        if line:
            lines.append(f"  {line}")
    return lines


def _checks_section(run: RunReport | None, validation: Path | None) -> str:
    """Checks of the run when there is one, else the latest stored Great Expectations results."""
    if run is not None:
        lines = [
            "\nChecks in this run",
            _format_table(
                ["kind", "passed", "warned", "failed"],
                [
                    ("dbt tests", run.dbt_tests_passed, 0, run.dbt_tests_failed),
                    ("Great Expectations", run.gx_passed, run.gx_warned, run.gx_failed),
                ],
            ),
        ]
        if run.checks_not_run:
            lines.append(f"  not run (downstream of a failure): {run.checks_not_run}")
        for failure in run.failures:
            lines.append(f"  {failure.severity}: {failure.check}: {failure.description}")
        lines += _not_provided_lines(validation)
        return "\n".join(lines)
    results_file = validation / "results.json" if validation is not None else None
    if results_file is None or not results_file.exists():
        return "\nChecks: no Great Expectations results yet (make demo runs them through Dagster)"
    tables = json.loads(results_file.read_text()).get("tables", {})
    counts: dict[str, int] = {}
    for result in tables.values():
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    lines = [
        f"\nLatest Great Expectations results ({results_file})",
        "  " + ", ".join(f"{status}: {count}" for status, count in sorted(counts.items())),
    ]
    for table, result in sorted(tables.items()):
        if result["status"] in ("failed", "warned"):
            lines.append(f"  {result['status']}: {table}: {result['message']}")
    lines += _not_provided_lines(validation)
    return "\n".join(lines)


def _not_provided_lines(validation: Path | None) -> list[str]:
    """Staged tables whose raw table was not provided (their volume and shape checks did not run)."""
    results_file = validation / "results.json" if validation is not None else None
    if results_file is None or not results_file.exists():
        return []
    tables = json.loads(results_file.read_text()).get("tables", {})
    absent = sorted(table for table, result in tables.items() if result.get("status") == "not provided")
    if not absent:
        return []
    return [f"  not provided (passed; volume and shape checks not run): {', '.join(absent)}"]


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(description="Print what the last build produced.").parse_args(argv)
    locations = default_locations()
    try:
        print(summarize(locations.warehouse, locations.raw, locations=locations))
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
