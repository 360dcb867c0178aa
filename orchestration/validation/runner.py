"""Run table suites against the DuckDB warehouse with Great Expectations, and keep their record.

For each table: read its small frames through one read-only DuckDB connection (opened
after the dbt step that wrote the file, closed before the next: DuckDB allows one
writer, shared/STACK.md trap 4), validate each frame with GX's pandas engine, and
compare its row count with the last passing run. Results are stored by GX (a file
project in the validation folder, rendered as Data Docs), summarised in
`results.json`, and the accepted row counts in `row_counts.json`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration.validation.connection import read_only_connection
from orchestration.validation.settings import data_docs_index, load_thresholds, validation_dir, warehouse_path
from orchestration.validation.suite import CRITICAL, WARNING, Frame, Lookup, TableSuite, Thresholds

PASSED, WARNED, FAILED, SKIPPED = "passed", "warned", "failed", "skipped"
DOCS_SITE = "warehouse_docs"


@dataclass(frozen=True)
class Outcome:
    """One expectation's verdict on one frame."""

    frame: str
    expectation: str
    success: bool
    severity: str
    observed: str


@dataclass
class TableResult:
    """The verdict on one table: passed, warned (only warnings failed), failed (a critical one), skipped."""

    table: str
    layer: str
    status: str
    outcomes: list[Outcome] = field(default_factory=list)
    row_count: int | None = None
    previous_row_count: int | None = None
    message: str = ""

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


class RowCountHistory:
    """The row count of each table at the last run that passed its critical expectations.

    A small JSON file beside the Data Docs: it survives warehouse rebuilds and Dagster
    instance resets, and a person can read or delete it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._counts: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.exists() else {}

    def previous(self, table: str) -> int | None:
        entry = self._counts.get(table)
        return int(entry["row_count"]) if entry else None

    def record(self, table: str, row_count: int) -> None:
        self._counts[table] = {"row_count": row_count, "recorded_at": datetime.now(UTC).isoformat()}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self._counts, indent=2, sort_keys=True))


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
        self.source = self.context.data_sources.add_or_update_pandas("warehouse")

    def validate(self, suite_name: str, frame: pd.DataFrame, expectations: Sequence[Any], run_id: Any) -> Any:
        """Validate one frame against one suite (created or replaced), storing the result under run_id."""
        gx = self._gx
        if suite_name in self.source.get_asset_names():
            asset = self.source.get_asset(suite_name)
        else:
            asset = self.source.add_dataframe_asset(suite_name)
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


def _severity(config: Any) -> str:
    severity = getattr(config, "severity", None)
    value = getattr(severity, "value", severity)
    return CRITICAL if value in (None, CRITICAL) else WARNING


def _volume_frame(thresholds: Thresholds, suite: TableSuite, previous: int | None) -> Frame:
    import great_expectations.expectations as gxe

    change = thresholds["row_count_change"]
    factor = float(change["max_factor"])

    def expectations(_: Thresholds, __: Lookup) -> list[Any]:
        return [
            gxe.ExpectColumnValuesToBeBetween(
                column="row_count", min_value=suite.min_rows, severity=CRITICAL
            ),
            # Empty on the first run (nothing to compare with): GX skips missing values.
            gxe.ExpectColumnValuesToBeBetween(
                column="change_factor",
                min_value=round(1 / factor, 6),
                max_value=factor,
                severity=change.get("severity", WARNING),
                meta={"previous_row_count": previous},
            ),
        ]

    return Frame(
        name="volume",
        query=lambda _: f"select count(*) as row_count from {suite.table}",
        expectations=expectations,
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
        self.history = RowCountHistory(self.directory / "row_counts.json")

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
        result = TableResult(suite.table, suite.layer, PASSED)
        previous = self.history.previous(suite.table) if suite.track_row_count else None
        frames = list(suite.frames)
        if suite.track_row_count:
            frames.insert(0, _volume_frame(self.thresholds, suite, previous))
        for frame in frames:
            try:
                data = connection.execute(frame.query(self.thresholds)).df()
                if frame.name == "volume":
                    result.row_count = int(data["row_count"].iloc[0])
                    result.previous_row_count = previous
                    data["change_factor"] = [result.row_count / previous if previous else math.nan]
                expectations = list(frame.expectations(self.thresholds, lookup))
            except Exception as error:  # a query or a lookup that fails is a failed expectation, named
                result.outcomes.append(Outcome(frame.name, "read frame", False, CRITICAL, f"error: {error}"))
                continue
            validation = project.validate(suite.suite_name(frame.name), data, expectations, run_id)
            for verdict in validation.results:
                config = verdict.expectation_config
                result.outcomes.append(
                    Outcome(
                        frame.name,
                        _describe(config),
                        bool(verdict.success),
                        _severity(config),
                        _observed(verdict, data),
                    )
                )
        if result.critical_failures:
            result.status = FAILED
        elif result.warnings:
            result.status = WARNED
        if result.row_count is not None and not result.critical_failures:
            self.history.record(suite.table, result.row_count)
        failed = result.critical_failures + result.warnings
        result.message = (
            f"{len(failed)} of {len(result.outcomes)} expectations failed: "
            + "; ".join(f"{o.frame}: {o.expectation} observed {o.observed}" for o in failed)
            if failed
            else f"all {len(result.outcomes)} expectations passed"
        )
        return result

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
