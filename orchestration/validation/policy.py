"""The check policy in code: which expectations block, and how a shape is compared with the last run.

The policy itself is written down once, at the top of orchestration/validation/thresholds.yml
(`policy:` and `drift:`). In short: integrity expectations are `critical` (they block what is
downstream), shape expectations are `warning` (reported, blocking nothing) unless the policy
names them blocking, and shape figures are compared with the previous run's figures kept in
`<validation dir>/metrics_history.json`, not with constants.

A check is named `<schema.table>:<frame>.<column>` (the expectation's column, else its type),
e.g. `staging.stg_shop__orders:volume_drift.count_factor`; `policy.blocking` and `policy.off`
take such names or shell-style patterns (`staging.*:volume_drift.*`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.validation.suite import COUNT, CRITICAL, SHARE, VALUE, WARNING, Drift, Thresholds

NO_PREVIOUS_RUN = "no previous run"
# The drift frame's columns, one per kind of comparison.
CHANGE_COLUMNS = {SHARE: "share_change", COUNT: "count_factor", VALUE: "value_factor"}


@dataclass(frozen=True)
class Policy:
    """The `policy:` and `drift:` sections of the thresholds file."""

    shape_severity: str = WARNING
    blocking: tuple[str, ...] = ()
    off: tuple[str, ...] = ()
    max_share_change: float = 0.1
    max_count_factor: float = 2.0
    max_value_factor: float = 2.0
    keep_runs: int = 10

    @classmethod
    def from_thresholds(cls, thresholds: Thresholds) -> Policy:
        policy = thresholds.get("policy") or {}
        drift = thresholds.get("drift") or {}
        severity = str(policy.get("shape_severity") or WARNING)
        if severity not in (CRITICAL, WARNING):
            raise ValueError(f"policy.shape_severity must be {CRITICAL} or {WARNING}, not {severity!r}")
        return cls(
            shape_severity=severity,
            blocking=tuple(policy.get("blocking") or ()),
            off=tuple(policy.get("off") or ()),
            max_share_change=float(drift.get("max_share_change", cls.max_share_change)),
            max_count_factor=float(drift.get("max_count_factor", cls.max_count_factor)),
            max_value_factor=float(drift.get("max_value_factor", cls.max_value_factor)),
            keep_runs=int(drift.get("keep_runs", cls.keep_runs)),
        )

    @staticmethod
    def _matches(check: str, patterns: Iterable[str]) -> bool:
        return any(fnmatchcase(check, pattern) for pattern in patterns)

    def is_off(self, check: str) -> bool:
        return self._matches(check, self.off)

    def severity(self, check: str, declared: str) -> str:
        """Integrity (critical) stays critical; a shape warning blocks when the policy says so."""
        if declared == CRITICAL or self.shape_severity == CRITICAL or self._matches(check, self.blocking):
            return CRITICAL
        return WARNING

    def apply(self, table: str, frame: str, expectations: Sequence[Any]) -> list[Any]:
        """The expectations that run, each with the severity the policy gives it."""
        kept = []
        for expectation in expectations:
            check = check_name(table, frame, expectation)
            if self.is_off(check):
                continue
            declared = getattr(expectation.severity, "value", expectation.severity)
            expectation.severity = self.severity(check, declared or CRITICAL)
            kept.append(expectation)
        return kept


def check_name(table: str, frame: str, expectation: Any) -> str:
    """`<table>:<frame>.<column or expectation type>`: how the policy names one check."""
    column = getattr(expectation, "column", None)
    return f"{table}:{frame}.{column or expectation.expectation_type}"


class MetricsHistory:
    """Each table's shape figures at its last runs that passed their critical expectations.

    `<validation dir>/metrics_history.json`: {table: [{recorded_at, metrics: {name: value}}, ...]},
    oldest first, at most `keep_runs` entries per table. A small JSON file beside the Data Docs: it
    survives warehouse rebuilds and Dagster instance resets, and a person can read or delete it
    (deleting it makes the next run a first run). The row counts of the older `row_counts.json`
    are taken over as `volume.row_count` when no history exists yet.
    """

    FILE = "metrics_history.json"

    def __init__(self, directory: Path, keep_runs: int = 10) -> None:
        self.path = directory / self.FILE
        self.keep_runs = max(1, keep_runs)
        self._runs: dict[str, list[dict[str, Any]]] = {}
        if self.path.exists():
            self._runs = json.loads(self.path.read_text())
        elif (directory / "row_counts.json").exists():
            counts = json.loads((directory / "row_counts.json").read_text())
            self._runs = {
                table: [
                    {
                        "recorded_at": entry.get("recorded_at"),
                        "metrics": {"volume.row_count": entry["row_count"]},
                    }
                ]
                for table, entry in counts.items()
            }

    def previous(self, table: str) -> dict[str, float | None] | None:
        """The figures of the table's latest recorded run, or None before its first."""
        runs = self._runs.get(table)
        return dict(runs[-1]["metrics"]) if runs else None

    def record(self, table: str, metrics: Mapping[str, float | None]) -> None:
        runs = self._runs.setdefault(table, [])
        runs.append({"recorded_at": datetime.now(UTC).isoformat(), "metrics": dict(metrics)})
        del runs[: -self.keep_runs]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self._runs, indent=2, sort_keys=True))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def metrics_of(
    frame: str, drifts: Sequence[Drift], data: pd.DataFrame
) -> dict[str, tuple[str, float | None]]:
    """This run's figures of one frame: {metric name: (kind, value)}.

    `<frame>.<column>` for a one-row frame; `<frame>.<column>[<category>]` per row when the
    drift is `by` a category column (a null category is `[null]`).
    """
    found: dict[str, tuple[str, float | None]] = {}
    for drift in drifts:
        if drift.column not in data.columns:
            continue
        if drift.by:
            for category, value in zip(data[drift.by], data[drift.column], strict=True):
                label = "null" if category is None or category != category else str(category)
                found[f"{frame}.{drift.column}[{label}]"] = (drift.kind, _number(value))
        elif len(data) == 1:
            found[f"{frame}.{drift.column}"] = (drift.kind, _number(data[drift.column].iloc[0]))
    return found


def _category_prefixes(frame: str, drifts: Sequence[Drift]) -> dict[str, str]:
    return {f"{frame}.{d.column}[": d.kind for d in drifts if d.by}


def drift_frame(
    frame: str,
    drifts: Sequence[Drift],
    current: Mapping[str, tuple[str, float | None]],
    previous: Mapping[str, float | None] | None,
) -> pd.DataFrame:
    """One row per figure: this run's and the previous run's value and the change.

    Shares change in points (|now - before|), counts and values by a factor (now / before).
    Without a previous run every change is null: nothing to compare, the expectations pass.
    A category seen in the previous run and gone now counts as a share of 0; a new one was 0.
    """
    figures = dict(current)
    if previous:
        for prefix, kind in _category_prefixes(frame, drifts).items():
            for name in previous:
                if name.startswith(prefix) and name not in figures:
                    figures[name] = (kind, 0.0)
    rows = []
    for name, (kind, value) in sorted(figures.items()):
        before: float | None = None
        if previous is not None:
            before = _number(previous.get(name))
            is_category = any(name.startswith(p) for p in _category_prefixes(frame, drifts))
            if before is None and is_category and name not in previous and _seen(previous, name):
                before = 0.0
        row: dict[str, Any] = {"metric": name, "kind": kind, "previous": before, "current": value}
        for column in CHANGE_COLUMNS.values():
            row[column] = math.nan
        if before is not None and value is not None:
            if kind == SHARE:
                row[CHANGE_COLUMNS[SHARE]] = round(abs(value - before), 6)
            elif before > 0:
                row[CHANGE_COLUMNS[kind]] = round(value / before, 6)
            else:
                row[CHANGE_COLUMNS[kind]] = 1.0 if value == before else math.inf
        rows.append(row)
    columns = ["metric", "kind", "previous", "current", *CHANGE_COLUMNS.values()]
    data = pd.DataFrame(rows, columns=columns)
    for column in ["previous", "current", *CHANGE_COLUMNS.values()]:
        data[column] = data[column].astype(float)
    return data


def _seen(previous: Mapping[str, Any], name: str) -> bool:
    """Whether the previous run had figures of the same category column (so a new category was 0)."""
    prefix = name.split("[", 1)[0] + "["
    return any(key.startswith(prefix) for key in previous)


def drift_expectations(policy: Policy, kinds: Iterable[str], frame: str | None = None) -> list[Any]:
    """Warnings (by default) on the change columns of a drift frame; null changes are skipped.

    With `frame`, they read only that frame's rows of a table's drift frame (column `frame`).
    """
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    present = set(kinds)
    where: dict[str, Any] = {}
    if frame:
        where = {"row_condition": Column("frame") == frame, "meta": {"frame": frame}}
    expectations = []
    if SHARE in present:
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=CHANGE_COLUMNS[SHARE],
                min_value=0,
                max_value=policy.max_share_change,
                severity=WARNING,
                **where,
                description=f"Each share moved at most {policy.max_share_change:g} "
                "(absolute) since the previous run.",
            )
        )
    for kind, factor in ((COUNT, policy.max_count_factor), (VALUE, policy.max_value_factor)):
        if kind in present:
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=CHANGE_COLUMNS[kind],
                    min_value=round(1 / factor, 6),
                    max_value=factor,
                    severity=WARNING,
                    **where,
                    description=f"Each {kind} changed at most by a factor of {factor:g} "
                    "since the previous run.",
                )
            )
    return expectations


def describe_drift(column: str, data: pd.DataFrame, success: bool) -> str:
    """What a drift expectation saw: no previous run, or the figures that moved, before -> now."""
    compared = data[data[column].notna()] if column in data.columns else data.iloc[0:0]
    kinds = [k for k, c in CHANGE_COLUMNS.items() if c == column]
    of_kind = data[data["kind"].isin(kinds)]
    if compared.empty:
        if of_kind["previous"].isna().all():
            return NO_PREVIOUS_RUN
        return "nothing to compare (null figures)"
    if success:
        if len(compared) == 1:
            row = compared.iloc[0]
            return f"{_short(row['previous'])} -> {_short(row['current'])} (previous run -> this run)"
        if column == CHANGE_COLUMNS[SHARE]:
            largest = f"largest move {compared[column].max():.3g}"
        else:
            largest = f"factors {compared[column].min():.3g} to {compared[column].max():.3g}"
        return f"{len(compared)} figures compared with the previous run, {largest}"
    return ""  # the runner lists the figures out of bounds


def moved(data: pd.DataFrame, column: str, low: float | None, high: float | None) -> list[str]:
    """The figures whose change is outside [low, high], as `metric before -> now`."""
    lines = []
    for row in data.itertuples(index=False):
        change = getattr(row, column)
        if change != change:  # NaN: not compared
            continue
        if (low is not None and change < low) or (high is not None and change > high):
            lines.append(f"{row.metric} {_short(row.previous)} -> {_short(row.current)}")
    return lines


def _short(value: float | None) -> str:
    if value is None or value != value:
        return "null"
    return f"{value:.4g}"
