"""python -m orchestration.devtools.simulation: run the closed loop and print planted vs measured effects."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from orchestration.devtools.simulation.comparison import compare, write_report
from orchestration.devtools.simulation.config import SimulationConfig
from orchestration.devtools.simulation.loop import run_simulation
from orchestration.devtools.simulation.report import format_report
from orchestration.warehouse_lock import connect

DESCRIPTION = """\
Closed-loop simulation: generate a world of --customers, then every --step days over --days
days build the warehouse as of that day, deliver the treatments through the file sync, let the
simulated customers respond with the planted effects (new raw part files), and finally measure
the effects from the warehouse's own holdouts and print them beside the planted ones.

Everything goes under --out: raw/ (world and responses), warehouse.duckdb, exports/ (the sync
files), dbt/ (target and logs), simulation/ (sends, spend changes, planted_effects.json,
report.txt/.csv/.json, zero_effect.json, assignment_effects.parquet). --out must be absent, empty
or a folder an earlier simulation made (it holds .ciw-simulation): its contents are replaced
(not with --report-only, which reports on the warehouse already there).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ciw simulate",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--customers", type=int, default=5000, help="registered customers (default 5000)")
    parser.add_argument("--days", type=int, default=60, help="simulated days with pipeline runs (default 60)")
    parser.add_argument("--step", type=int, default=7, help="days between pipeline runs (default 7)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the world and the responses (default 7)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (its own: emptied first)")
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 9, 30),
                        help="end of the generated world; the final measurement is as of the day before")  # fmt: skip
    parser.add_argument("--step-command", choices=("run", "build"), default="run",
                        help="dbt command of each run: run (models only, default) or build (with tests)")  # fmt: skip
    parser.add_argument("--final-command", choices=("run", "build"), default="build",
                        help="dbt command of the final measurement (default build: every model and test)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="dbt threads (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--report-only", action="store_true",
                        help="do not run: recompute the report of the finished simulation in --out "
                             "(give the same sizes, seed and calendar)")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = SimulationConfig(
        customers=args.customers,
        days=args.days,
        step=args.step,
        seed=args.seed,
        out=args.out,
        end_date=args.end_date,
        step_command=args.step_command,
        final_command=args.final_command,
        threads=args.threads,
        quiet=args.quiet,
    )
    if not args.report_only:
        run_simulation(config)
    with connect(config.duckdb_path, read_only=True) as con:
        comparison = compare(con, config)
    text = format_report(comparison.table, config, comparison.zero_effect)
    path = write_report(comparison, config, text)
    print(text + f"\nDetails: {path.parent}")
    return 0
