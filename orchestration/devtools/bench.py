"""Benchmark: generate sample data at scale, then build the warehouse on it as a company would.

    ciw bench --customers 1000000 --seed 7 --out data/bench/raw [--skip-dbt] [--skip-generate]

Takes the generator's own arguments. Reports, side by side in one run (docs/scale.md):

- the **raw-scan floor**: reading every raw byte once in DuckDB (every column of every row of
  every raw table, hashed), the least any build on these files could take;
- the **first build**: `dbt build` into an empty warehouse, as of the day before the latest
  order date (one day of data not yet visible);
- the **next day's build**: `dbt build` on the same warehouse as of the latest order date (one
  more day visible), the daily run;
- their ratios (next day / first, first / floor), the peak memory of each build and the
  warehouse file's size against the raw files';
- the **graph floor**: the same two builds on GRAPH_FLOOR_CUSTOMERS customers (same seed and
  faults), generated beside --out. Its next day's build is what a daily run of this graph costs
  whatever the data (dbt's work per node: about 1,000 models and data tests), so its ratio to
  the first build at scale is the least next day / first can reach on this machine;
- where each build's time went: seconds per resource type summed over dbt's threads, and the
  slowest models (from run_results.json).

"One more day" is made with the as-of date rather than with a second copy of the raw files:
the first build is computed as of D - 1 (var as_of), so the rows of day D wait in quarantine
as after_as_of, exactly as they would if their files had not arrived yet; the next build is
as of D. No raw file is copied, so the benchmark costs no extra disk at 1M customers.

The result is written as JSON next to --out (<out>.bench.json) and printed as a table. The
generator's peak RSS covers this process and its largest worker process; a build's peak is
the largest process of the dbt process tree (read from wait4), which includes DuckDB's
buffers and the dbt Python models. The run times of single models named in TIMED_MODELS
(the value mart's CLV step) come from dbt's run_results.json. Speed, memory and size targets
live here rather than in timed tests.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.contract import RAW_TABLES
from orchestration.dbt_cli import PROJECT_DIR, DbtWorkspace, dbt_executable
from orchestration.devtools.owned_folder import ForeignFolderError
from orchestration.devtools.sample_data import generate
from orchestration.devtools.sample_data.cli import build_parser, config_from_args
from orchestration.devtools.sample_data.config import GeneratorConfig
from orchestration.devtools.sample_data.generator import GenerationSummary

# ru_maxrss is in KiB on Linux (bytes on macOS).
_RSS_SCALE = 1024 * 1024 if platform.system() == "Darwin" else 1024


def _peak_rss_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _RSS_SCALE
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / _RSS_SCALE
    return {
        "self_mb": round(own, 1),
        "largest_child_mb": round(children, 1),
        "max_mb": round(max(own, children), 1),
    }


def result_path(out: Path) -> Path:
    """The JSON result sits next to the output folder: <out>.bench.json."""
    return out.with_name(out.name + ".bench.json")


def reuse_generated(out: Path) -> GenerationSummary:
    """The summary of data generated earlier, read back from its manifest."""
    manifest = json.loads((out / "_truth" / "manifest.json").read_text(encoding="utf-8"))
    return GenerationSummary(
        out=out,
        rows=manifest["rows"],
        files=manifest["files"],
        persons=manifest["persons"],
        faults=manifest["fault_counts"],
    )


# dbt models whose own run time the benchmark reports (from dbt's run_results.json): the CLV
# step of the value mart (fit, then per-customer predictions with simulated intervals).
TIMED_MODELS: tuple[str, ...] = ("clv_model_fit", "int_value__clv_predictions")


def model_timings(workspace: DbtWorkspace, names: Sequence[str] = TIMED_MODELS) -> dict[str, float | None]:
    """Execution seconds of the named models in the last dbt run of this workspace; None if absent."""
    path = workspace.work_dir / "target" / "run_results.json"
    timings: dict[str, float | None] = dict.fromkeys(names)
    if not path.exists():
        return timings
    for result in json.loads(path.read_text(encoding="utf-8")).get("results", []):
        name = result.get("unique_id", "").rsplit(".", 1)[-1]
        if name in timings and result.get("unique_id", "").startswith("model."):
            timings[name] = round(float(result.get("execution_time", 0.0)), 1)
    return timings


def node_seconds(workspace: DbtWorkspace, slowest: int = 10) -> dict[str, object]:
    """Where the last dbt run of this workspace spent its time (run_results.json).

    Seconds per resource type (model, test, seed, ...) summed over dbt's threads, node counts,
    and the slowest models: what to look at first when a build is slower than it should be.
    """
    path = workspace.work_dir / "target" / "run_results.json"
    if not path.exists():
        return {}
    results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    models: list[tuple[float, str]] = []
    for result in results:
        unique_id = result.get("unique_id", "")
        kind = unique_id.split(".", 1)[0]
        took = float(result.get("execution_time", 0.0))
        seconds[kind] = seconds.get(kind, 0.0) + took
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "model":
            models.append((took, unique_id.rsplit(".", 1)[-1]))
    return {
        "summed_seconds": {kind: round(total, 1) for kind, total in sorted(seconds.items())},
        "nodes": dict(sorted(counts.items())),
        "slowest_models": {name: round(took, 1) for took, name in sorted(models, reverse=True)[:slowest]},
    }


BENCH_MARKER_SUFFIX = ".ciw-bench"


def bench_warehouse_marker(workspace: DbtWorkspace) -> Path:
    """Beside a warehouse the benchmark built: says the next benchmark may delete it."""
    return workspace.duckdb_path.with_name(workspace.duckdb_path.name + BENCH_MARKER_SUFFIX)


def raw_files(out: Path, file_format: str) -> list[Path]:
    """The raw files of the contract's tables under out (the generator's truth is not raw data)."""
    return sorted(
        path for table in RAW_TABLES for path in (out / table.source / table.name).glob(f"*.{file_format}")
    )


def raw_reader(folder: Path, file_format: str) -> str:
    """How the sources read one raw table (dbt_project.yml, var raw_location_templates)."""
    if file_format == "csv":
        return f"read_csv('{folder}/*.csv', union_by_name = true, header = true, all_varchar = true)"
    return f"read_parquet('{folder}/*.parquet', union_by_name = true)"


def _duckdb(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the profile's settings (profiles.yml), so the floor is comparable."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set threads = {threads or int(os.environ.get('CIW_DUCKDB_THREADS', '2'))}")
    con.execute(f"set memory_limit = '{os.environ.get('CIW_DUCKDB_MEMORY_LIMIT', '4GB')}'")
    return con


def raw_scan_floor(out: Path, file_format: str) -> dict[str, object]:
    """Read every raw byte once: hash every column of every row of every raw table.

    The least any build of these files could cost; a build's time over this floor says how much
    work the warehouse does beyond reading its input.
    """
    con = _duckdb()
    started = time.perf_counter()
    rows = 0
    for table in RAW_TABLES:
        folder = out / table.source / table.name
        if not any(folder.glob(f"*.{file_format}")):
            continue
        count, _ = con.execute(
            f"select count(*), bit_xor(hash(raw_row)) from {raw_reader(folder, file_format)} as raw_row"
        ).fetchone()
        rows += count
    elapsed = time.perf_counter() - started
    con.close()
    return {"elapsed_seconds": round(elapsed, 2), "rows": rows}


def latest_order_date(out: Path, file_format: str) -> date:
    """The default as-of date (macros/as_of.sql): the latest raw order not in the machine's future."""
    con = _duckdb()
    (latest,) = con.execute(
        "select max(cast(timezone('UTC', try_cast(nullif(trim(cast(ordered_at as varchar)), '') as timestamptz))"
        " as date)) from "
        + raw_reader(out / "shop" / "orders", file_format)
        + " where timezone('UTC', try_cast(nullif(trim(cast(ordered_at as varchar)), '') as timestamptz))"
        " <= timezone('UTC', current_timestamp)"
    ).fetchone()
    con.close()
    if latest is None:
        raise SystemExit(f"no parseable shop.orders.ordered_at under {out}: cannot choose the as-of dates")
    return latest


def _megabytes(size: int) -> float:
    return round(size / 2**20, 1)


def warehouse_used_mb(path: Path) -> float | None:
    """The blocks the warehouse's tables occupy, without the free blocks of relations a rebuild
    dropped: DuckDB reuses those in the next build but does not shrink the file."""
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    used_blocks, block_size = con.execute(
        "select used_blocks, block_size from pragma_database_size()"
    ).fetchone()
    con.close()
    return _megabytes(used_blocks * block_size)


def bench_dbt_build(workspace: DbtWorkspace, as_of: date, fresh: bool, label: str) -> dict[str, object]:
    """Run `dbt build` as of a date; time it and read the peak memory of the dbt process tree.

    fresh: start from an empty warehouse (the first build); otherwise build on the one there
    (the next day's run).
    """
    if fresh:
        # Only a warehouse an earlier benchmark made (it left a marker beside it) is deleted;
        # any other file at that path is refused, never deleted.
        if workspace.duckdb_path.exists() and not bench_warehouse_marker(workspace).is_file():
            raise ForeignFolderError(
                f"Refusing to delete {workspace.duckdb_path}: an earlier benchmark did not make it "
                "(no marker beside it). Pass an --out whose parent folder holds no warehouse.duckdb."
            )
        for stale in (
            workspace.duckdb_path,
            workspace.duckdb_path.with_name(workspace.duckdb_path.name + ".wal"),
        ):
            stale.unlink(missing_ok=True)
        workspace.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        bench_warehouse_marker(workspace).write_text(
            "Built by ciw bench, which deletes it before the next benchmark.\n"
        )
    log_file = workspace.work_dir / f"dbt_build_{label}.log"
    workspace.work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [
                dbt_executable(),
                "build",
                "--project-dir",
                str(PROJECT_DIR),
                "--vars",
                json.dumps({"as_of": as_of.isoformat()}),
            ],
            cwd=PROJECT_DIR,
            env=workspace.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # wait4's rusage covers the dbt process and every descendant it waited for: ru_maxrss
        # is the largest of them.
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    return {
        "as_of": as_of.isoformat(),
        "succeeded": os.waitstatus_to_exitcode(status) == 0,
        "elapsed_seconds": round(elapsed, 1),
        "peak_rss_mb": round(usage.ru_maxrss / _RSS_SCALE, 1),
        "warehouse_mb": _megabytes(workspace.duckdb_path.stat().st_size)
        if workspace.duckdb_path.exists()
        else None,
        "warehouse_used_mb": warehouse_used_mb(workspace.duckdb_path),
        "log": str(log_file),
        "model_seconds": model_timings(workspace),
        "node_seconds": node_seconds(workspace),
    }


# Customers of the graph floor's data: enough that every model has rows, so every node does
# its work; small enough that the data costs next to nothing.
GRAPH_FLOOR_CUSTOMERS = 300


def graph_floor(config: GeneratorConfig, root: Path) -> dict[str, object]:
    """The first and next day's builds on GRAPH_FLOOR_CUSTOMERS customers, under `root`.

    dbt pays per node whatever the data holds (compiling, materialising, testing); the next
    day's build here is that floor for a daily run of this graph on this machine.
    """
    raw = root / "raw"
    generate(replace(config, customers=GRAPH_FLOOR_CUSTOMERS, out=raw))
    workspace = DbtWorkspace(
        raw_path=raw,
        duckdb_path=root / "warehouse.duckdb",
        work_dir=root / "dbt",
        file_format=config.file_format,
    )
    latest = latest_order_date(raw, config.file_format)
    first = bench_dbt_build(workspace, latest - timedelta(days=1), fresh=True, label="first")
    next_day = bench_dbt_build(workspace, latest, fresh=False, label="next_day")
    return {"customers": GRAPH_FLOOR_CUSTOMERS, "first_build": first, "next_day_build": next_day}


def _ratio(numerator: object, denominator: object, digits: int = 2) -> float | None:
    if not isinstance(numerator, int | float) or not isinstance(denominator, int | float) or denominator <= 0:
        return None
    return round(numerator / denominator, digits)


def scale_summary(
    floor: dict[str, object],
    first: dict[str, object],
    next_day: dict[str, object],
    raw_mb: float,
    graph: dict[str, object] | None = None,
) -> dict[str, object]:
    """The figures the issue's targets are stated in: ratios of time and of size.

    graph_floor_over_first: the graph floor's next day's build over the first build at scale,
    the least next_day_over_first can be on this machine.
    """
    graph_next_day = (graph or {}).get("next_day_build") or {}
    return {
        "raw_files_mb": raw_mb,
        "first_over_floor": _ratio(first["elapsed_seconds"], floor["elapsed_seconds"], 1),
        "next_day_over_first": _ratio(next_day["elapsed_seconds"], first["elapsed_seconds"]),
        "graph_floor_over_first": _ratio(graph_next_day.get("elapsed_seconds"), first["elapsed_seconds"]),
        "warehouse_over_raw_first": _ratio(first["warehouse_mb"], raw_mb),
        "warehouse_over_raw_next_day": _ratio(next_day["warehouse_mb"], raw_mb),
        "warehouse_used_over_raw_next_day": _ratio(next_day.get("warehouse_used_mb"), raw_mb),
        "peak_rss_mb": max(
            (b["peak_rss_mb"] for b in (first, next_day) if isinstance(b.get("peak_rss_mb"), int | float)),
            default=None,
        ),
    }


def format_scale_table(
    floor: dict[str, object],
    first: dict[str, object],
    next_day: dict[str, object],
    summary: dict[str, object],
    graph: dict[str, object] | None = None,
) -> str:
    """The side-by-side table `ciw bench` prints."""

    def cell(value: object, suffix: str = "") -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:,.1f}{suffix}" if value >= 10 else f"{value:,.2f}{suffix}"
        return f"{value}{suffix}"

    floor_seconds = floor["elapsed_seconds"]
    raw_mb = summary["raw_files_mb"]
    rows = [
        ("raw-scan floor", "-", floor_seconds, 1.0, None, None, None, None, "ok"),
    ]
    builds = [("first build", first), ("next day's build", next_day)]
    if graph:
        customers = graph["customers"]
        builds += [
            (f"graph floor: first ({customers:,})", graph["first_build"]),
            (f"graph floor: next day ({customers:,})", graph["next_day_build"]),
        ]
    for label, build in builds:
        rows.append(
            (
                label,
                build["as_of"],
                build["elapsed_seconds"],
                _ratio(build["elapsed_seconds"], floor_seconds, 1),
                build["peak_rss_mb"],
                build["warehouse_mb"],
                build.get("warehouse_used_mb"),
                _ratio(build.get("warehouse_used_mb"), raw_mb),
                "ok" if build["succeeded"] else f"FAILED (see {build['log']})",
            )
        )
    headers = (
        "step",
        "as of",
        "seconds",
        "x floor",
        "peak RSS MB",
        "file MB",
        "used MB",
        "used x raw",
        "result",
    )
    table = [headers, *[tuple(cell(v) for v in row) for row in rows]]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(headers))]
    lines = [
        "  ".join(
            str(v).ljust(w) if i in (0, 1, 8) else str(v).rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        f"raw files {cell(raw_mb)} MB; next day / first build {cell(summary['next_day_over_first'])}; "
        f"first build / floor {cell(summary['first_over_floor'])}; "
        f"warehouse (used blocks) / raw files {cell(summary['warehouse_used_over_raw_next_day'])}"
    )
    if summary.get("graph_floor_over_first") is not None:
        lines.append(
            f"graph floor's next day / first build {cell(summary['graph_floor_over_first'])} "
            "(the least next day / first can be with this graph on this machine)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.prog = "ciw bench"
    parser.add_argument("--skip-dbt", action="store_true", help="only benchmark the generator")
    parser.add_argument(
        "--skip-generate", action="store_true", help="reuse the data already in --out; only benchmark dbt"
    )
    parser.add_argument(
        "--skip-graph-floor",
        action="store_true",
        help=f"do not build the graph floor ({GRAPH_FLOOR_CUSTOMERS} customers) beside --out",
    )
    args = parser.parse_args(argv)
    config = config_from_args(args)

    summary = reuse_generated(args.out) if args.skip_generate else generate(config)
    memory = _peak_rss_mb()
    total = sum(summary.rows.values())
    width = max(len(name) for name in summary.rows)
    print(f"generate {args.customers:,} customers: {summary.elapsed_seconds:.1f}s, peak RSS "
          f"{memory['max_mb']:,.0f} MB (main {memory['self_mb']:,.0f} MB, "
          f"largest worker {memory['largest_child_mb']:,.0f} MB)")  # fmt: skip
    print(f"{'table':<{width}}  {'rows':>12}")
    for name, rows in summary.rows.items():
        print(f"{name:<{width}}  {rows:>12,}")
    print(f"{'total':<{width}}  {total:>12,}")
    result: dict[str, object] = {
        "customers": args.customers,
        "seed": args.seed,
        "faults": args.faults,
        "file_format": args.file_format,
        "generate": {"elapsed_seconds": summary.elapsed_seconds, "peak_rss_mb": memory},
        "persons": summary.persons,
        "rows": summary.rows,
        "total_rows": total,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }

    succeeded = True
    if not args.skip_dbt:
        out = args.out.resolve()
        bench_root = out.parent
        workspace = DbtWorkspace(
            raw_path=out,
            duckdb_path=bench_root / "warehouse.duckdb",
            work_dir=bench_root / "dbt",
            file_format=args.file_format,
        )
        raw_mb = _megabytes(sum(path.stat().st_size for path in raw_files(out, args.file_format)))
        latest = latest_order_date(out, args.file_format)
        floor = raw_scan_floor(out, args.file_format)
        first = bench_dbt_build(workspace, latest - timedelta(days=1), fresh=True, label="first")
        next_day = bench_dbt_build(workspace, latest, fresh=False, label="next_day")
        graph = None if args.skip_graph_floor else graph_floor(config, bench_root / "graph_floor")
        summary_figures = scale_summary(floor, first, next_day, raw_mb, graph)
        result.update(
            {
                "raw_scan_floor": floor,
                "first_build": first,
                "next_day_build": next_day,
                "graph_floor": graph,
                "scale": summary_figures,
            }
        )
        succeeded = bool(first["succeeded"]) and bool(next_day["succeeded"])
        print(format_scale_table(floor, first, next_day, summary_figures, graph))
        for name, seconds in first["model_seconds"].items():
            print(f"  first build, {name}: {'not run' if seconds is None else f'{seconds}s'}")
        for label, build in (("first build", first), ("next day's build", next_day)):
            spent = build["node_seconds"].get("summed_seconds", {})
            slowest = ", ".join(
                f"{name} {took}s" for name, took in build["node_seconds"].get("slowest_models", {}).items()
            )
            print(f"  {label}, seconds summed over threads: {spent}; slowest models: {slowest}")

    path = result_path(args.out)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"result written to {path}")
    return 0 if succeeded else 1


if __name__ == "__main__":
    raise SystemExit(main())
