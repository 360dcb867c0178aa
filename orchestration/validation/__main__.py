"""Validate the warehouse from the command line: `python -m orchestration.validation [--layer L ...]`.

Exits 1 when a critical (integrity, or made blocking by the policy) expectation failed, so it
can gate a plain `make build`. Warnings and "not provided" tables exit 0.
"""

from __future__ import annotations

import argparse

from orchestration.validation.runner import FAILED, TableResult, Validator
from orchestration.validation.suites import all_suites


def format_results(results: list[TableResult]) -> str:
    lines = []
    for result in results:
        rows = "" if result.row_count is None else f" rows={result.row_count:,}"
        lines.append(f"{result.status:12} {result.table}{rows}  {result.message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layer", action="append", help="validate only this layer (repeatable)")
    args = parser.parse_args(argv)
    suites = [s for s in all_suites() if not args.layer or s.layer in args.layer]
    validator = Validator()
    results = validator.run(suites)
    print(format_results(results))
    print(f"Data Docs: {validator.data_docs}")
    return 1 if any(r.status == FAILED for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
