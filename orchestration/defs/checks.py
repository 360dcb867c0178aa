"""The Great Expectations suites as blocking Dagster asset checks on the dbt assets.

One check op per layer (`gx_<layer>`), one check (`great_expectations`) per validated
table. The op reads the warehouse only after the layer's dbt step (it depends on
the assets it checks) and before the next layer's (that step depends on the checked
assets, and a blocking check makes it wait). When a critical expectation fails, the
check fails with ERROR severity; the check is blocking, so Dagster fails the check
step and skips every step downstream of the checked table: in this graph, every
later layer. Warnings fail the check with WARN severity and block nothing. Which
expectations are critical is the check policy (top of thresholds.yml): integrity
blocks, shape warns. A staged table whose raw table was not provided passes with the
description "not provided".
"""

from collections.abc import Collection, Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from orchestration.validation.runner import FAILED, TableResult, Validator
from orchestration.validation.suite import TableSuite, layer_rank
from orchestration.validation.suites import all_suites

CHECK_NAME = "great_expectations"


def check_key(suite: TableSuite) -> AssetCheckKey:
    return AssetCheckKey(AssetKey(suite.asset_key_path), CHECK_NAME)


def _spec(suite: TableSuite, asset_keys: Collection[AssetKey]) -> AssetCheckSpec:
    reads = [AssetKey(table.split(".")) for table in suite.reads]
    return AssetCheckSpec(
        name=CHECK_NAME,
        asset=AssetKey(suite.asset_key_path),
        description=f"Great Expectations: {suite.description}",
        additional_deps=[key for key in reads if key in asset_keys],
        blocking=True,
    )


def _failures_markdown(result: TableResult) -> str:
    failed = result.critical_failures + result.warnings
    if not failed:
        return "none"
    # The check name is what thresholds.yml policy.blocking / policy.off take.
    lines = ["| check | expectation | severity | observed |", "| --- | --- | --- | --- |"]
    lines += [f"| `{o.check}` | `{o.expectation}` | {o.severity} | {o.observed} |" for o in failed]
    return "\n".join(lines)


def to_check_result(result: TableResult, data_docs: str) -> AssetCheckResult:
    """A table's GX verdict as a Dagster check result: critical failures are ERROR (blocking)."""
    metadata = {
        "status": result.status,
        "provided": result.provided,
        "expectations_passed": sum(o.success for o in result.outcomes),
        "expectations_failed": len(result.critical_failures),
        "warnings": len(result.warnings),
        "failed_expectations": MetadataValue.md(_failures_markdown(result)),
        "observed": MetadataValue.json(
            {f"{o.check or o.frame}: {o.expectation}": o.observed for o in result.outcomes}
        ),
        "data_docs": MetadataValue.path(data_docs),
    }
    if result.row_count is not None:
        metadata["row_count"] = result.row_count
    if result.previous_row_count is not None:
        metadata["previous_row_count"] = result.previous_row_count
    return AssetCheckResult(
        asset_key=AssetKey(result.table.split(".")),
        check_name=CHECK_NAME,
        passed=result.passed,
        severity=AssetCheckSeverity.ERROR if result.status == FAILED else AssetCheckSeverity.WARN,
        metadata=metadata,
        description=result.message,
    )


def layer_checks(
    layer: str, suites: list[TableSuite], asset_keys: Collection[AssetKey], pool: str | None = None
) -> AssetChecksDefinition:
    """The check op `gx_<layer>`: one blocking check per suite, run on the warehouse Validator() finds."""

    @multi_asset_check(
        name=f"gx_{layer}",
        specs=[_spec(suite, asset_keys) for suite in suites],
        description=f"Great Expectations suites of the {layer} layer (orchestration/validation/suites/).",
        can_subset=True,
        pool=pool,
    )
    def _run(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
        selected = context.selected_asset_check_keys
        chosen = [suite for suite in suites if check_key(suite) in selected]
        validator = Validator()
        # The table was just built by dbt: if it is not there, that is a failure, not a skip.
        results = validator.run(chosen, missing_table=FAILED)
        context.log.info(f"Data Docs: {validator.data_docs}")
        for result in results:
            yield to_check_result(result, str(validator.data_docs))

    return _run


def build_gx_checks(asset_keys: Collection[AssetKey]) -> list[AssetChecksDefinition]:
    """One check op per layer, for the suites whose table is an asset of this graph.

    A suite for a table the dbt project does not have yet (a mart still being built)
    gets no check; `python -m orchestration.validation` reports it as skipped.
    """
    from orchestration.defs.dbt.assets import DUCKDB_POOL  # imports the dbt project: only when building

    by_layer: dict[str, list[TableSuite]] = {}
    for suite in all_suites():
        if AssetKey(suite.asset_key_path) in asset_keys:
            by_layer.setdefault(suite.layer, []).append(suite)
    return [
        layer_checks(layer, by_layer[layer], asset_keys, pool=DUCKDB_POOL)
        for layer in sorted(by_layer, key=layer_rank)
    ]
