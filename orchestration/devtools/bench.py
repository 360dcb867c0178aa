"""Benchmark: generate sample data at scale, then build the warehouse on it with dbt.

    ciw bench --customers 1000000 --seed 7 --out data/bench/raw [--skip-dbt]

Takes the generator's own arguments. Reports wall time and peak memory of each step and the
rows per raw table, and writes the result as JSON next to --out (<out>.bench.json). Generator
peak RSS covers this process and its largest worker process; the dbt step's peak is the dbt
process's own (read from wait4), which includes DuckDB's buffers. The run times of single
models named in TIMED_MODELS (the value mart's CLV step) come from dbt's run_results.json.
Speed and memory targets live here rather than in timed tests.
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
from pathlib import Path

from orchestration.dbt_cli import PROJECT_DIR, DbtWorkspace, dbt_executable
from orchestration.devtools.owned_folder import ForeignFolderError
from orchestration.devtools.sample_data import generate
from orchestration.devtools.sample_data.cli import build_parser, config_from_args
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


BENCH_MARKER_SUFFIX = ".ciw-bench"


def bench_warehouse_marker(workspace: DbtWorkspace) -> Path:
    """Beside a warehouse the benchmark built: says the next benchmark may delete it."""
    return workspace.duckdb_path.with_name(workspace.duckdb_path.name + BENCH_MARKER_SUFFIX)


def bench_dbt_build(workspace: DbtWorkspace) -> dict[str, object]:
    """Run `dbt build` on the generated data; time it and read the dbt process's peak memory.

    The build starts from an empty warehouse: one an earlier benchmark made (it left a marker
    beside it) is deleted first; any other file at that path is refused, never deleted.
    """
    if workspace.duckdb_path.exists():
        if not bench_warehouse_marker(workspace).is_file():
            raise ForeignFolderError(
                f"Refusing to delete {workspace.duckdb_path}: an earlier benchmark did not make it "
                "(no marker beside it). Pass an --out whose parent folder holds no warehouse.duckdb."
            )
        workspace.duckdb_path.unlink()
    workspace.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    bench_warehouse_marker(workspace).write_text(
        "Built by ciw bench, which deletes it before the next benchmark.\n"
    )
    log_file = workspace.work_dir / "dbt_build.log"
    workspace.work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log_file.open("w") as log:
        process = subprocess.Popen(
            [dbt_executable(), "build", "--project-dir", str(PROJECT_DIR)],
            cwd=PROJECT_DIR,
            env=workspace.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    return {
        "succeeded": os.waitstatus_to_exitcode(status) == 0,
        "elapsed_seconds": round(elapsed, 1),
        "peak_rss_mb": round(usage.ru_maxrss / _RSS_SCALE, 1),
        "warehouse_mb": round(workspace.duckdb_path.stat().st_size / 2**20, 1)
        if workspace.duckdb_path.exists()
        else None,
        "log": str(log_file),
        "model_seconds": model_timings(workspace),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.prog = "ciw bench"
    parser.add_argument("--skip-dbt", action="store_true", help="only benchmark the generator")
    parser.add_argument(
        "--skip-generate", action="store_true", help="reuse the data already in --out; only benchmark dbt"
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
        bench_root = args.out.resolve().parent
        workspace = DbtWorkspace(
            raw_path=args.out.resolve(),
            duckdb_path=bench_root / "warehouse.duckdb",
            work_dir=bench_root / "dbt",
            file_format=args.file_format,
        )
        build = bench_dbt_build(workspace)
        result["dbt_build"] = build
        succeeded = bool(build["succeeded"])
        outcome = "ok" if build["succeeded"] else f"FAILED (see {build['log']})"
        print(f"dbt build: {outcome}, {build['elapsed_seconds']}s, peak RSS {build['peak_rss_mb']:,.0f} MB, "
              f"warehouse {build['warehouse_mb']} MB")  # fmt: skip
        for name, seconds in build["model_seconds"].items():
            print(f"  {name}: {'not run' if seconds is None else f'{seconds}s'}")

    path = result_path(args.out)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"result written to {path}")
    return 0 if succeeded else 1


if __name__ == "__main__":
    raise SystemExit(main())
