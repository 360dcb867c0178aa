"""Run table suites against the DuckDB warehouse with Great Expectations, and keep their record.

For each table: read its small frames through one read-only DuckDB connection (opened
after the dbt step that wrote the file, closed before the next: DuckDB allows one
writer, shared/STACK.md trap 4), validate each frame with GX's pandas engine under the
check policy (policy.py; written down in thresholds.yml), and compare its shape figures
(row count, shares, medians) with the previous run's. A staged table whose raw table was
not provided runs only its integrity frames and is reported "not provided". Results are
stored by GX (a file project in the validation folder, rendered as Data Docs), summarised
in `results.json`, and the accepted figures in `metrics_history.json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.validation import frames
from orchestration.validation.connection import read_only_connection
from orchestration.validation.policy import (
    NO_PREVIOUS_RUN,
    MetricsHistory,
    Policy,
    describe_drift,
    drift_expectations,
    drift_frame,
    metrics_of,
    moved,
)
from orchestration.validation.settings import data_docs_index, load_thresholds, validation_dir, warehouse_path
from orchestration.validation.suite import (
    COUNT,
    CRITICAL,
    SHAPE,
    SOURCE_TABLES,
    WARNING,
    Drift,
    Frame,
    Lookup,
    TableSuite,
    Thresholds,
)

PASSED, WARNED, FAILED, SKIPPED = "passed", "warned", "failed", "skipped"
# A staged table whose raw table the company does not have: a passing verdict, its own word.
NOT_PROVIDED = "not provided"
VOLUME_METRIC = "volume.row_count"
DOCS_SITE = "warehouse_docs"


@dataclass(frozen=True)
class Outcome:
    """One expectation's verdict on one frame."""

    frame: str
    expectation: str
    success: bool
    severity: str
    observed: str
    # The check's name in the policy (`<table>:<frame>.<column>`): what policy.blocking/off take.
    check: str = ""


@dataclass
class TableResult:
    """The verdict on one table: passed, not provided (raw table absent; integrity checks passed),
    warned (only warnings failed), failed (a critical one), skipped (table not built)."""

    table: str
    layer: str
    status: str
    outcomes: list[Outcome] = field(default_factory=list)
    row_count: int | None = None
    previous_row_count: int | None = None
    message: str = ""
    provided: bool = True

    @property
    def passed(self) -> bool:
        """Nothing failed or warned (a table not provided passes)."""
        return self.status in (PASSED, NOT_PROVIDED)

    @property
    def critical_failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == CRITICAL]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity != CRITICAL]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcomes"] = [asdict(o) for o in self.outcomes]
        return data


class GxProject:
    """A GX file project in `<validation dir>/gx/`: suites, results; Data Docs in `<validation dir>/data_docs/`.

    The suites' source of truth is the code in orchestration/validation/suites/; this
    project is generated output, rewritten with the current expectations at each run.
    """

    def __init__(self, directory: Path) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.context = gx.get_context(mode="file", project_root_dir=str(directory))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.context.variables.save()
        # One site, outside the GX project so a person finds it: <validation dir>/data_docs/index.html.
        for site in self.context.get_site_names():
            self.context.delete_data_docs_site(site)
        self.context.add_data_docs_site(
            DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_index(directory).parent),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        # Reuse the data source: replacing it drops its assets, and re-adding each one rewrites the
        # project's YAML (twice per asset, a file that grows with them): minutes on a large project.
        if "warehouse" in self.context.data_sources.all():
            self.source = self.context.data_sources.get("warehouse")
        else:
            self.source = self.context.data_sources.add_pandas("warehouse")

    def validate(
        self, suite_name: str, frame: pd.DataFrame, expectations: Sequence[Any], run_id: Any, asset_name: str
    ) -> Any:
        """Validate one frame against one suite (created or replaced), storing the result under run_id.

        One dataframe asset per table (`asset_name`): every frame of the table is a batch of it.
        """
        gx = self._gx
        if asset_name in self.source.get_asset_names():
            asset = self.source.get_asset(asset_name)
        else:
            asset = self.source.add_dataframe_asset(asset_name)
        batch = next((b for b in asset.batch_definitions if b.name == "frame"), None)
        if batch is None:
            batch = asset.add_batch_definition_whole_dataframe("frame")
        suite = self.context.suites.add_or_update(
            gx.ExpectationSuite(name=suite_name, expectations=expectations)
        )
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
        )
        return definition.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY", run_id=run_id)

    def publish(self, run_id: Any, keep_runs: int) -> Path:
        """Keep the latest `keep_runs` results per suite, render this run's into Data Docs, rebuild the index.

        Rendering only this run's pages keeps a daily run's cost flat; the pruning keeps the
        stored results, the pages and the index from growing without end.
        """
        store = self.context.validation_results_store
        docs = data_docs_index(self.directory).parent
        by_suite: dict[str, list[Any]] = {}
        for key in store.list_keys():
            by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
        for keys in by_suite.values():
            keys.sort(key=lambda k: k.run_id.run_time, reverse=True)
            for old in keys[keep_runs:]:
                store.remove_key(old)
                (docs / "validations" / Path(*old.to_tuple())).with_suffix(".html").unlink(missing_ok=True)
        current = [key for key in store.list_keys() if key.run_id == run_id]
        self.context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=current)
        return data_docs_index(self.directory)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _observed(result: Any, data: pd.DataFrame) -> str:
    """A short text of what GX saw: the observed value, or the column's value(s) and what was unexpected."""
    if result.exception_info and result.exception_info.get("raised_exception"):
        return f"error: {result.exception_info.get('exception_message')}"
    details = result.result or {}
    if "observed_value" in details:
        return _format(details["observed_value"])
    text = ""
    column = result.expectation_config.kwargs.get("column")
    if column in data.columns:
        values = data[column].dropna()
        if values.empty:
            text = "null"
        elif len(data) == 1:
            return _format(values.iloc[0])  # an aggregate: its value says it all
        elif pd.api.types.is_numeric_dtype(values):
            text = f"min {_format(values.min())}, max {_format(values.max())}"
        else:
            text = f"{values.nunique()} distinct values"
    unexpected = details.get("unexpected_count")
    if unexpected:
        examples = ", ".join(_format(v) for v in (details.get("partial_unexpected_list") or [])[:5])
        failing = f"{unexpected} of {details.get('element_count')} unexpected" + (
            f" (e.g. {examples})" if examples else ""
        )
        text = f"{text}; {failing}" if text else failing
    return text


def _describe(config: Any) -> str:
    kwargs = config.kwargs
    bounds = [f"{k}={kwargs[k]}" for k in ("min_value", "max_value", "value") if kwargs.get(k) is not None]
    if "value_set" in kwargs:
        bounds.append(f"value_set={list(kwargs['value_set'])}")
    parts = [str(kwargs["column"])] if kwargs.get("column") else []
    if bounds:
        parts.append(", ".join(bounds))
    return f"{config.type}({': '.join(parts)})"


def _check_name(table: str, frame: str, config: Any) -> str:
    """The policy's name of a validated expectation (policy.check_name, from its configuration)."""
    return f"{table}:{frame}.{config.kwargs.get('column') or config.type}"


def _severity(config: Any) -> str:
    severity = getattr(config, "severity", None)
    value = getattr(severity, "value", severity)
    return CRITICAL if value in (None, CRITICAL) else WARNING


def _volume_frame(suite: TableSuite) -> Frame:
    """Rows of the table (shape): an empty table warns; the change since the last run is drift."""
    import great_expectations.expectations as gxe

    return Frame(
        name="volume",
        query=lambda _: f"select count(*) as row_count from {suite.table}",
        expectations=lambda _t, _l: [
            gxe.ExpectColumnValuesToBeBetween(column="row_count", min_value=suite.min_rows, severity=WARNING)
        ],
        description="Row count; compared with the previous run's.",
        kind=SHAPE,
        drift=(Drift("row_count", COUNT),),
    )


def _keys_frame(suite: TableSuite) -> Frame:
    """Integrity: each declared key column unique and never null, exact over the whole table."""
    import great_expectations.expectations as gxe

    counts: dict[str, str] = {}
    for key in suite.keys:
        counts[f"duplicate_{key}"] = f'count("{key}") - count(distinct "{key}")'
        counts[f"null_{key}"] = f'count(*) filter (where "{key}" is null)'
    return Frame(
        name="keys",
        query=lambda _: frames.aggregate(suite.table, counts),
        expectations=lambda _t, _l: [
            gxe.ExpectColumnValuesToBeBetween(column=column, max_value=0, severity=CRITICAL)
            for column in counts
        ],
        description=f"Keys {', '.join(suite.keys)}: unique and not null.",
    )


def _source_query(raw_table: str, lookup: Lookup) -> str:
    """The audit row of one raw table, by `raw_table` when the model has it, else source and table name."""
    if "raw_table" in lookup.columns(SOURCE_TABLES):
        return f"select * from {SOURCE_TABLES} where raw_table = '{raw_table}'"
    source, table = raw_table.split(".")
    return f"select * from {SOURCE_TABLES} where source_name = '{source}' and table_name = '{table}'"


def _source_frame(raw_table: str) -> Frame:
    """The raw table's row in the source audit: a record in Data Docs of whether it was provided."""
    import great_expectations.expectations as gxe

    def expectations(_: Thresholds, lookup: Lookup) -> list[Any]:
        provided = lookup.provided(raw_table)
        text = (
            f"Raw {raw_table} was provided."
            if provided
            else f"Not provided: raw {raw_table} is optional and absent; its volume and shape checks do not run."
        )
        return [
            gxe.ExpectTableRowCountToEqual(value=1, severity=CRITICAL),
            gxe.ExpectColumnValuesToBeInSet(
                column="is_provided", value_set=[provided], severity=WARNING, description=text
            ),
        ]

    return Frame(
        name="source",
        query=lambda _, lookup: _source_query(raw_table, lookup),
        expectations=expectations,
        description=f"Whether raw {raw_table} was provided ({SOURCE_TABLES}).",
    )


class Validator:
    """Validates suites against one warehouse file and records the results in its validation folder."""

    def __init__(
        self,
        warehouse: Path | None = None,
        directory: Path | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.warehouse = warehouse or warehouse_path()
        self.directory = directory or validation_dir(self.warehouse)
        self.thresholds = thresholds or load_thresholds()
        self.policy = Policy.from_thresholds(self.thresholds)
        self.history = MetricsHistory(self.directory, keep_runs=self.policy.keep_runs)

    @property
    def data_docs(self) -> Path:
        return data_docs_index(self.directory)

    def run(self, suites: Iterable[TableSuite], missing_table: str = SKIPPED) -> list[TableResult]:
        """Validate each suite's table; a table absent from the warehouse is `missing_table`
        (skipped where it may legitimately not exist yet, failed where it was just built)."""
        suites = list(suites)
        if not suites:
            return []
        if not self.warehouse.exists():
            raise FileNotFoundError(
                f"No warehouse at {self.warehouse}: build it first (make build / make demo)."
            )
        from great_expectations.core.run_identifier import RunIdentifier

        project = GxProject(self.directory)
        run_id = RunIdentifier(run_name="warehouse", run_time=datetime.now(UTC))
        connection = read_only_connection(self.warehouse)
        try:
            lookup = Lookup(connection)
            results = [
                self._validate(suite, connection, lookup, project, missing_table, run_id) for suite in suites
            ]
        finally:
            connection.close()
        self.history.save()
        project.publish(run_id, keep_runs=int(self.thresholds["data_docs"]["keep_runs"]))
        self._store(results)
        return results

    def _validate(
        self,
        suite: TableSuite,
        connection: duckdb.DuckDBPyConnection,
        lookup: Lookup,
        project: GxProject,
        missing_table: str,
        run_id: Any,
    ) -> TableResult:
        if not lookup.table_exists(suite.table):
            return TableResult(
                suite.table,
                suite.layer,
                missing_table,
                message=f"table not built: {suite.table} does not exist in {self.warehouse.name}",
            )
        provided = lookup.provided(suite.raw_table)
        result = TableResult(suite.table, suite.layer, PASSED, provided=provided)
        previous = self.history.previous(suite.table)
        planned: list[Frame] = []
        if suite.raw_table and lookup.source_table(suite.raw_table) is not None:
            planned.append(_source_frame(suite.raw_table))
        if suite.keys:
            planned.append(_keys_frame(suite))
        if suite.track_row_count:
            planned.append(_volume_frame(suite))
        planned.extend(suite.frames)
        # Not provided: nothing to measure, so no volume or shape frame; integrity still holds.
        ran = [frame for frame in planned if provided or frame.kind != SHAPE]
        metrics: dict[str, float | None] = {}
        drifts: list[tuple[str, set[str], pd.DataFrame]] = []
        for frame in ran:
            try:
                data = connection.execute(frame.sql(self.thresholds, lookup)).df()
                expectations = list(frame.expectations(self.thresholds, lookup))
            except Exception as error:  # a query or a lookup that fails is a failed expectation, named
                # Unreadable integrity is a broken contract (blocks); an unreadable shape only warns.
                severity = CRITICAL
                if frame.kind == SHAPE:
                    severity = self.policy.severity(f"{suite.table}:{frame.name}.read frame", WARNING)
                check = f"{suite.table}:{frame.name}.read frame"
                result.outcomes.append(
                    Outcome(frame.name, "read frame", False, severity, f"error: {error}", check)
                )
                continue
            if frame.name == "volume":
                result.row_count = int(data["row_count"].iloc[0])
                previous_rows = (previous or {}).get(VOLUME_METRIC)
                result.previous_row_count = None if previous_rows is None else int(previous_rows)
            self._check(project, run_id, suite, frame.name, data, expectations, result)
            if frame.drift:
                current = metrics_of(frame.name, frame.drift, data)
                metrics.update({name: value for name, (_, value) in current.items()})
                changes = drift_frame(frame.name, frame.drift, current, previous)
                drifts.append((frame.name, {drift.kind for drift in frame.drift}, changes))
        if drifts:
            self._check_drift(project, run_id, suite, drifts, result)
        if result.critical_failures:
            result.status = FAILED
        elif result.warnings:
            result.status = WARNED
        elif not provided:
            result.status = NOT_PROVIDED
        # The figures of a run that passed its critical expectations become the next run's reference.
        if metrics and not result.critical_failures:
            self.history.record(suite.table, metrics)
        failed = result.critical_failures + result.warnings
        if failed:
            result.message = f"{len(failed)} of {len(result.outcomes)} expectations failed: " + "; ".join(
                f"{o.frame}: {o.expectation} observed {o.observed}" for o in failed
            )
        else:
            result.message = f"all {len(result.outcomes)} expectations passed"
        if not provided:
            result.message = (
                f"not provided: raw {suite.raw_table} was not provided; volume and shape checks "
                f"not run; {result.message}"
            )
        elif previous is None and any(o.observed == NO_PREVIOUS_RUN for o in result.outcomes):
            result.message += f" ({NO_PREVIOUS_RUN} to compare with)"
        return result

    def _check(
        self,
        project: GxProject,
        run_id: Any,
        suite: TableSuite,
        frame: str,
        data: pd.DataFrame,
        expectations: Sequence[Any],
        result: TableResult,
    ) -> None:
        """Validate one frame under the policy and add its verdicts to the table's result."""
        expectations = self.policy.apply(suite.table, frame, expectations)
        if not expectations:
            return
        validation = project.validate(suite.suite_name(frame), data, expectations, run_id, suite.table)
        for verdict in validation.results:
            config = verdict.expectation_config
            result.outcomes.append(
                Outcome(
                    frame,
                    _describe(config),
                    bool(verdict.success),
                    _severity(config),
                    _observed(verdict, data),
                    _check_name(suite.table, frame, config),
                )
            )

    def _check_drift(
        self,
        project: GxProject,
        run_id: Any,
        suite: TableSuite,
        drifts: Sequence[tuple[str, set[str], pd.DataFrame]],
        result: TableResult,
    ) -> None:
        """Validate every drift figure of the table in one GX suite (`<table>.drift`, one row per
        figure); each frame's expectations select its rows, so each is named and tuned on its own
        (`<table>:<frame>_drift.<change column>`)."""
        data = pd.concat([changes.assign(frame=name) for name, _, changes in drifts], ignore_index=True)
        expectations: list[Any] = []
        for name, kinds, _ in drifts:
            expectations += self.policy.apply(
                suite.table, f"{name}_drift", drift_expectations(self.policy, kinds, frame=name)
            )
        if not expectations:
            return
        validation = project.validate(suite.suite_name("drift"), data, expectations, run_id, suite.table)
        for verdict in validation.results:
            config = verdict.expectation_config
            name = config.meta["frame"]
            rows = data[data["frame"] == name]
            column = config.kwargs["column"]
            observed = describe_drift(column, rows, bool(verdict.success)) or "; ".join(
                moved(rows, column, config.kwargs.get("min_value"), config.kwargs.get("max_value"))
            )
            result.outcomes.append(
                Outcome(
                    f"{name}_drift",
                    _describe(config),
                    bool(verdict.success),
                    _severity(config),
                    observed,
                    _check_name(suite.table, f"{name}_drift", config),
                )
            )

    def _store(self, results: Sequence[TableResult]) -> None:
        """Merge into results.json: the latest verdict per table, for the summary and people."""
        path = self.directory / "results.json"
        stored = json.loads(path.read_text()) if path.exists() else {}
        tables = stored.get("tables", {})
        for result in results:
            tables[result.table] = {**result.to_dict(), "validated_at": datetime.now(UTC).isoformat()}
        stored = {"warehouse": str(self.warehouse), "data_docs": str(self.data_docs), "tables": tables}
        path.write_text(json.dumps(stored, indent=2, sort_keys=True, default=str))


def read_stored_results(directory: Path) -> dict[str, Any]:
    """The latest stored verdict per table ({} when nothing was validated yet)."""
    path = directory / "results.json"
    return json.loads(path.read_text()).get("tables", {}) if path.exists() else {}
