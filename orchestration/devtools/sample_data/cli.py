"""Command line for the sample-data generator (a thin wrapper around `generate`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from orchestration.devtools.sample_data.config import GeneratorConfig
from orchestration.devtools.sample_data.generator import generate
from orchestration.devtools.sample_data.shapes import FULL, SHAPE_NAMES

DESCRIPTION = """\
Generate deterministic raw sample data for the customer intelligence warehouse.

--customers N is the number of persons who own a shop account (registered persons; about 8%
of them are prospects who never buy). On top of them the generator adds guest-only buyers
(10% of N, they buy by email without an account) and anonymous-only web visitors (8% of N,
never identifiable), so N=1000 yields 1180 persons.

--shape picks the company the data comes from (the same persons and purchases in each):
  full            every source (shop, web, crm, marketing), as always
  orders_only     shop customers, orders, order lines and products only: a quarter of the orders
                  anonymous walk-ins without any identifier, no categories or unit costs,
                  date-only order and customer timestamps, one currency
  experiment      every source, a music shop's categories, phone and telesales orders, and an
                  outside two-arm experiment with one shared control group (null treatment_code)
  multi_currency  every source, orders in EUR, GBP and USD, and shop/exchange_rates (to EUR)

Output: DIR/<source>/<table>/part-00000.<ext> for every raw table of the shape; with
--faults, late-arriving rows go to DIR/<source>/<table>/part-00001-late.<ext>. The planted
ground truth goes to DIR/_truth (shape.json: what each shape must let a pipeline recover).
DIR must be absent, empty, or a folder the generator made (it has DIR/_truth/manifest.json);
any other folder is refused, so your own files are never overwritten. Regenerating removes only
the files the manifest lists as written by an earlier run; nothing else in DIR is touched.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ciw data",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--customers", type=int, required=True, help="registered persons (see above)")
    parser.add_argument(
        "--seed", type=int, required=True, help="random seed; same arguments give identical files"
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--faults", action="store_true", help="plant data-quality faults (recorded in _truth)"
    )
    parser.add_argument("--format", dest="file_format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 9, 30),
                        help="as-of date; every clean timestamp is before it (default 2026-09-30)")  # fmt: skip
    parser.add_argument(
        "--history-days", type=int, default=1095, help="observation window length (default 1095)"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="worker processes; 0 = min(2, cpus); no effect on output"
    )
    parser.add_argument(
        "--no-effects",
        dest="effects",
        action="store_false",
        help="plant no causal effects (no incremental purchases): effect-free data for model fits",
    )
    parser.add_argument(
        "--shape",
        choices=SHAPE_NAMES,
        default=FULL,
        help="which company's tables and vocabularies (see above)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def config_from_args(args: argparse.Namespace) -> GeneratorConfig:
    """The generator configuration the parsed command line asks for."""
    return GeneratorConfig(
        customers=args.customers,
        seed=args.seed,
        out=args.out,
        faults=args.faults,
        file_format=args.file_format,
        end_date=args.end_date,
        history_days=args.history_days,
        quiet=args.quiet,
        workers=args.workers,
        effects=args.effects,
        shape=args.shape,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    summary = generate(config_from_args(args))
    if not args.quiet:
        print(json.dumps({"shape": summary.shape, "rows": summary.rows, "persons": summary.persons,
                          "elapsed_seconds": summary.elapsed_seconds}, indent=2), file=sys.stderr)  # fmt: skip
    return 0
