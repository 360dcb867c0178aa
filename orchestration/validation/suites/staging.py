"""Staging: every staged table is complete enough to build on, and its categories have not collapsed.

dbt's tests already prove the staging invariant (raw = staged + quarantined) and the
keys; these check what they do not: how much was quarantined, and distributions.
"""

from __future__ import annotations

from collections.abc import Sequence

import great_expectations.expectations as gxe
from great_expectations.expectations import Expectation

from orchestration.contract import RAW_TABLES
from orchestration.validation import frames
from orchestration.validation.suite import CRITICAL, Frame, Lookup, TableSuite, Thresholds

RECONCILIATION = "staging.stg_audit__row_reconciliation"


def _completeness(raw_table: str) -> Frame:
    def expectations(t: Thresholds, _: Lookup) -> Sequence[Expectation]:
        staging = t["staging"]
        limit = (staging.get("quarantine_share_overrides") or {}).get(
            raw_table, staging["max_quarantine_share"]
        )
        return [
            gxe.ExpectColumnValuesToBeBetween(
                column="quarantine_rate",
                min_value=0,
                max_value=limit,
                severity=CRITICAL,
                meta={"why": f"share of raw {raw_table} rows held in quarantine"},
            ),
            gxe.ExpectTableRowCountToEqual(value=1, severity=CRITICAL),
        ]

    return Frame(
        name="completeness",
        query=lambda _: (
            "select raw_rows, staged_rows, quarantined_rows, quarantine_rate "
            f"from {RECONCILIATION} where raw_table = '{raw_table}'"
        ),
        expectations=expectations,
        description=f"Quarantine share of raw {raw_table} (from {RECONCILIATION}).",
    )


def _category_shares(table: str, column: str) -> Frame:
    return Frame(
        name=f"{column}_shares",
        query=lambda _: frames.shares(table, column),
        expectations=lambda t, _: [
            gxe.ExpectColumnValuesToBeBetween(
                column="share", min_value=0, max_value=t["staging"]["max_category_share"], severity=CRITICAL
            ),
            gxe.ExpectColumnValuesToNotBeNull(column=column, severity=CRITICAL),
        ],
        description=f"No single {column} holds (almost) every row.",
    )


def _order_line_amounts() -> Frame:
    def expectations(t: Thresholds, _: Lookup) -> Sequence[Expectation]:
        low, high = t["staging"]["median_unit_price"]
        return [
            gxe.ExpectColumnValuesToBeBetween(column="negative_net_amounts", max_value=0, severity=CRITICAL),
            gxe.ExpectColumnValuesToBeBetween(
                column="non_positive_quantities", max_value=0, severity=CRITICAL
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="median_unit_price", min_value=low, max_value=high, severity=CRITICAL
            ),
        ]

    return Frame(
        name="amounts",
        query=lambda _: frames.aggregate(
            "staging.stg_shop__order_lines",
            {
                "negative_net_amounts": "count(*) filter (where net_amount < 0)",
                "non_positive_quantities": "count(*) filter (where quantity <= 0)",
                "median_unit_price": "median(unit_price)",
            },
        ),
        expectations=expectations,
        description="Exact counts of impossible amounts, and a plausible median price.",
    )


def _staged_model(source: str, name: str) -> str:
    return f"staging.stg_{source}__{name}"


# Distribution checks beyond completeness, per staged table.
EXTRA_FRAMES: dict[str, tuple[Frame, ...]] = {
    "staging.stg_shop__orders": (_category_shares("staging.stg_shop__orders", "channel"),),
    "staging.stg_shop__order_lines": (_order_line_amounts(),),
    "staging.stg_web__events": (_category_shares("staging.stg_web__events", "event_name"),),
}

SUITES: tuple[TableSuite, ...] = tuple(
    TableSuite(
        table=_staged_model(raw.source, raw.name),
        layer="staging",
        description=f"Staged {raw.qualified_name}: quarantine share, volume"
        + (", distributions" if _staged_model(raw.source, raw.name) in EXTRA_FRAMES else ""),
        frames=(
            _completeness(raw.qualified_name),
            *EXTRA_FRAMES.get(_staged_model(raw.source, raw.name), ()),
        ),
        reads=(RECONCILIATION,),
    )
    for raw in RAW_TABLES
)
