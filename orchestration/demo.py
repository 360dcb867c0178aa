"""`make demo`: fresh sample data and the whole asset graph, headless through Dagster, the summary, the report.

    ciw demo --customers 10000 --seed 7 --faults [--shape orders_only]

Runs the `demo` job in this process (the job's executor is in-process anyway) on the
instance in DAGSTER_HOME when that is set, so `make ui` shows the run afterwards,
else on a throw-away instance. Ends by writing the HTML report (orchestration/report) and
printing its path. Exits 1 when the run failed, e.g. because a blocking
check stopped the layers after it; the summary says which check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from dagster import AssetCheckSeverity, DagsterEventType, DagsterInstance, ExecuteInProcessResult

from orchestration.defs.checks import CHECK_NAME
from orchestration.defs.raw.assets import raw_data_path
from orchestration.devtools.sample_data.shapes import FULL, SHAPE_NAMES
from orchestration.devtools.sample_data.writer import check_output
from orchestration.report.build import build_report
from orchestration.summary import CheckFailure, RunReport, default_locations, summarize

INSTANCE_SETTINGS = Path(__file__).with_name("dagster.yaml")


def demo_instance() -> DagsterInstance:
    """The DAGSTER_HOME instance (given our dagster.yaml if it has none), else an ephemeral one."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    settings = Path(home) / "dagster.yaml"
    if not settings.exists():
        shutil.copy(INSTANCE_SETTINGS, settings)
    return DagsterInstance.get()


def run_report(
    result: ExecuteInProcessResult, planned_assets: int, planned_checks: int, steps: Sequence[str]
) -> RunReport:
    """Reduce a run's events to what the summary prints: materialisations, checks, failed and skipped steps.

    A step downstream of a failure never starts (Dagster logs "Dependencies ... failed. Not
    executing."), so skipped steps are the job's steps that did not start.
    """
    evaluations = result.get_asset_check_evaluations()
    gx = [e for e in evaluations if e.check_name == CHECK_NAME]
    dbt = [e for e in evaluations if e.check_name != CHECK_NAME]
    failures = tuple(
        CheckFailure(
            check=e.asset_check_key.to_user_string(),
            severity="ERROR" if e.severity == AssetCheckSeverity.ERROR else "WARN",
            description=e.description or "failed",
        )
        for e in evaluations
        if not e.passed
    )
    failed_steps = tuple(
        e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE
    )
    started = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}
    skipped_steps = tuple(step for step in steps if step not in started)
    return RunReport(
        run_id=result.run_id,
        success=result.success,
        assets_planned=planned_assets,
        assets_materialized=len({e.asset_key for e in result.get_asset_materialization_events()}),
        dbt_tests_passed=sum(e.passed for e in dbt),
        dbt_tests_failed=sum(not e.passed for e in dbt),
        gx_passed=sum(e.passed for e in gx),
        gx_warned=sum(not e.passed and e.severity == AssetCheckSeverity.WARN for e in gx),
        gx_failed=sum(not e.passed and e.severity == AssetCheckSeverity.ERROR for e in gx),
        checks_not_run=planned_checks - len(evaluations),
        failures=failures,
        failed_steps=failed_steps,
        skipped_steps=skipped_steps,
    )


def sample_data_config(customers: int, seed: int, faults: bool, shape: str = FULL) -> dict[str, object]:
    """The sample_data op's config; `shape` only when not the default, so `full` runs as it always did."""
    config: dict[str, object] = {"customers": customers, "seed": seed, "faults": faults}
    if shape != FULL:
        config["shape"] = shape
    return config


def run_demo(
    customers: int,
    seed: int,
    faults: bool,
    instance: DagsterInstance | None = None,
    shape: str = FULL,
) -> tuple[ExecuteInProcessResult, RunReport]:
    """Materialise the whole graph once: sample data (of the given shape), every dbt layer, every check."""
    # Imported here: loading the definitions parses the dbt project.
    from orchestration.definitions import defs

    job = defs.resolve_job_def("demo")
    graph = job.asset_layer.asset_graph
    result = job.execute_in_process(
        run_config={
            "ops": {"sample_data": {"config": sample_data_config(customers, seed, faults, shape)}},
            # Progress per step and dbt node; Dagster's DEBUG events stay in the run's record.
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        },
        instance=instance or demo_instance(),
        raise_on_error=False,
    )
    executable = [key for key in graph.get_all_asset_keys() if graph.get(key).is_executable]
    steps = [node.name for node in job.nodes_in_topological_order]
    return result, run_report(result, len(executable), len(list(graph.asset_check_keys)), steps)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole asset graph headless through Dagster.")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--faults", action=argparse.BooleanOptionalAction, default=True, help="plant dirty raw data"
    )
    parser.add_argument(
        "--shape", choices=SHAPE_NAMES, default=FULL, help="which company's raw tables the generator writes"
    )
    args = parser.parse_args(argv)
    # The demo's first step writes sample data: refuse a raw folder holding the user's own files
    # now, in one line, rather than as a failed step (raw_data_path is what the step writes).
    check_output(raw_data_path())
    result, report = run_demo(args.customers, args.seed, args.faults, shape=args.shape)
    locations = default_locations()
    try:
        print(summarize(locations.warehouse, locations.raw, run=report, locations=locations))
        # Written even after a failed run: its sections say what the failure left unbuilt.
        page = build_report(locations.warehouse, run=report, locations=locations)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"\nReport: {page}")
    if not result.success:
        print("\nThe demo run failed: see the failed checks and steps above, or `make ui`.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
