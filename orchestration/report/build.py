"""`ciw report` / `make report`: write the HTML report of the warehouse (CIW_DUCKDB_PATH).

    ciw report [--out PATH]

The page goes to PATH, by default `report/index.html` beside the warehouse (data/report/ for
`make`). `make demo` writes it at the end of its run and prints where.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestration.report import sections
from orchestration.report.data import Warehouse
from orchestration.report.render import render
from orchestration.report.sections import Checks
from orchestration.summary import Locations, RunReport, default_locations


def default_output(warehouse: Path) -> Path:
    return warehouse.parent / "report" / "index.html"


def checks_of(run: RunReport | None, validation: Path | None) -> Checks | None:
    """The run's dbt tests and Great Expectations checks, else the latest stored GX results."""
    if run is not None:
        return Checks(
            passed=run.dbt_tests_passed + run.gx_passed,
            warned=run.gx_warned,
            failed=run.dbt_tests_failed + run.gx_failed,
            origin=f"dbt tests and Great Expectations checks of Dagster run {run.run_id}",
        )
    results = validation / "results.json" if validation is not None else None
    if results is None or not results.exists():
        return None
    statuses = [result.get("status") for result in json.loads(results.read_text()).get("tables", {}).values()]
    return Checks(
        passed=sum(status in ("passed", "not provided") for status in statuses),
        warned=sum(status == "warned" for status in statuses),
        failed=sum(status == "failed" for status in statuses),
        origin=f"latest Great Expectations results per table ({results})",
    )


def build_report(
    warehouse_path: Path,
    out: Path | None = None,
    run: RunReport | None = None,
    locations: Locations | None = None,
) -> Path:
    """Read the warehouse (read-only), write the page, return its path."""
    out = out or default_output(warehouse_path)
    warehouse = Warehouse.open(warehouse_path)
    try:
        as_of = warehouse.as_of_date()
        checks = checks_of(run, locations.validation if locations else None)
        page = [
            sections.overview(warehouse, as_of, checks),
            sections.value(warehouse, as_of),
            sections.needs(warehouse, as_of),
            sections.journey(warehouse, as_of),
            sections.activation(warehouse, as_of),
            sections.measurement(warehouse, as_of),
            sections.data_quality(warehouse, as_of),
        ]
    finally:
        warehouse.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(page, warehouse_path, as_of), encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the HTML report of the warehouse.")
    parser.add_argument(
        "--out", type=Path, help="where to write the page (default: report/index.html beside the warehouse)"
    )
    args = parser.parse_args(argv)
    locations = default_locations()
    try:
        path = build_report(locations.warehouse, args.out, locations=locations)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
