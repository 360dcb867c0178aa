"""`ciw`: one command for what people run, each subcommand a step of `make demo` or a tool.

    ciw demo        sample data, then the whole Dagster graph headless, then the summary
    ciw summary     what the last build produced (rows staged and quarantined, checks, marts)
    ciw validate    Great Expectations suites on the warehouse (`--layer L` to choose)
    ciw report      the HTML report of the warehouse (figures per section, opens offline)
    ciw sync        send the current treatments to every configured channel once
    ciw dbt ARGS    dbt in the project, waiting while another process holds the warehouse
    ciw data        generate sample raw data (developer tool: several shapes of company)
    ciw simulate    closed-loop simulation: planted effects vs measured (developer tool)
    ciw bench       build time, memory and size at scale (developer tool)

`ciw <subcommand> --help` lists each one's options. The modules are imported only when their
subcommand runs, so `ciw summary` does not pay for Dagster's import.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from orchestration.errors import OneLineError

# subcommand -> (module with a `main(argv)`, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("orchestration.demo", "sample data, the whole Dagster graph headless, the summary"),
    "summary": ("orchestration.summary", "what the last build produced"),
    "validate": ("orchestration.validation.__main__", "Great Expectations suites on the warehouse"),
    "report": ("orchestration.report.build", "write the HTML report of the warehouse"),
    "sync": ("orchestration.syncs.runner", "send current treatments to every configured channel"),
    "dbt": ("orchestration.dbt_cli", "dbt <args>, waiting while another process holds the warehouse"),
    "data": ("orchestration.devtools.sample_data.cli", "generate sample raw data (developer tool)"),
    "simulate": ("orchestration.devtools.simulation.cli", "closed-loop simulation (developer tool)"),
    "bench": ("orchestration.devtools.bench", "build time, memory and size at scale (developer tool)"),
}


def usage() -> str:
    width = max(map(len, SUBCOMMANDS))
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in SUBCOMMANDS.items()]
    return "usage: ciw <subcommand> [options]\n\nsubcommands:\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"ciw: unknown subcommand {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(SUBCOMMANDS[name][0])
    try:
        return int(module.main(rest) or 0)
    except OneLineError as error:
        # A refused folder, a warehouse another process holds: the message says what to do.
        print(f"ciw {name}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
