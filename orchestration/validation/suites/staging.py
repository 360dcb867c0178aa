"""Staging: rows reconcile and keys hold (integrity); quarantine share and mixes (shape).

dbt's tests prove the staging invariant and the keys row by row; here they are exact
aggregates that block (a failed one stops every later layer), beside the shape figures
that warn and are compared with the previous run: quarantine share, volume, sales-channel
and event-type mixes, median unit price. A staged table whose raw table the company did
not provide runs only its integrity frames and is reported "not provided".
"""

from __future__ import annotations

from collections.abc import Sequence

import great_expectations.expectations as gxe
from great_expectations.expectations import Expectation

from orchestration.contract import RAW_TABLES
from orchestration.validation import frames
from orchestration.validation.suite import (
    CRITICAL,
    SHAPE,
    SHARE,
    SOURCE_TABLES,
    VALUE,
    WARNING,
    Drift,
    Frame,
    Lookup,
    TableSuite,
    Thresholds,
)

RECONCILIATION = "audit.audit__row_reconciliation"


def _reconciliation(raw_table: str) -> Frame:
    def expectations(_: Thresholds, lookup: Lookup) -> Sequence[Expectation]:
        found = [
            gxe.ExpectColumnValuesToBeInSet(
                column="is_balanced",
                value_set=[True],
                severity=CRITICAL,
                meta={"why": f"raw {raw_table} rows = staged + quarantined"},
            )
        ]
        if lookup.provided(raw_table):
            # One row per raw table of the contract (a table not provided may have none).
            found.append(gxe.ExpectTableRowCountToEqual(value=1, severity=CRITICAL))
        return found

    return Frame(
        name="reconciliation",
        query=lambda _: (
            "select raw_rows, staged_rows, quarantined_rows, is_balanced "
            f"from {RECONCILIATION} where raw_table = '{raw_table}'"
        ),
        expectations=expectations,
        description=f"Raw {raw_table} rows = staged + quarantined (from {RECONCILIATION}).",
    )


def _quarantine(raw_table: str) -> Frame:
    def expectations(t: Thresholds, _: Lookup) -> Sequence[Expectation]:
        staging = t["staging"]
        limit = (staging.get("quarantine_share_overrides") or {}).get(
            raw_table, staging.get("max_quarantine_share")
        )
        if limit is None:
            return []
        return [
            gxe.ExpectColumnValuesToBeBetween(
                column="quarantine_rate",
                min_value=0,
                max_value=limit,
                severity=WARNING,
                meta={"why": f"share of raw {raw_table} rows held in quarantine"},
            )
        ]

    return Frame(
        name="quarantine",
        query=lambda _: f"select quarantine_rate from {RECONCILIATION} where raw_table = '{raw_table}'",
        expectations=expectations,
        description=f"Share of raw {raw_table} rows in quarantine: a ceiling, and its move since the last run.",
        kind=SHAPE,
        drift=(Drift("quarantine_rate", SHARE),),
    )


def _category_shares(table: str, column: str) -> Frame:
    return Frame(
        name=f"{column}_shares",
        query=lambda _: frames.shares(table, column),
        expectations=lambda _t, _: [gxe.ExpectColumnValuesToNotBeNull(column=column, severity=WARNING)],
        description=f"Rows per {column}: the mix, compared with the previous run's (no fixed ceiling: "
        "a shop may have one channel, a site one event type).",
        kind=SHAPE,
        drift=(Drift("share", SHARE, by=column),),
    )


def _order_line_amounts() -> Frame:
    return Frame(
        name="amounts",
        query=lambda _: frames.aggregate(
            "staging.stg_shop__order_lines",
            {
                "negative_net_amounts": "count(*) filter (where net_amount < 0)",
                "non_positive_quantities": "count(*) filter (where quantity <= 0)",
            },
        ),
        expectations=lambda _t, _: [
            gxe.ExpectColumnValuesToBeBetween(column="negative_net_amounts", max_value=0, severity=CRITICAL),
            gxe.ExpectColumnValuesToBeBetween(
                column="non_positive_quantities", max_value=0, severity=CRITICAL
            ),
        ],
        description="Exact counts of impossible amounts (must be 0).",
    )


def _order_line_prices() -> Frame:
    return Frame(
        name="prices",
        query=lambda _: frames.aggregate(
            "staging.stg_shop__order_lines", {"median_unit_price": "median(unit_price)"}
        ),
        expectations=lambda _t, _: [],
        description="Median unit price, compared with the previous run's (prices differ by shop and currency).",
        kind=SHAPE,
        drift=(Drift("median_unit_price", VALUE),),
    )


def _staged_model(source: str, name: str) -> str:
    return f"staging.stg_{source}__{name}"


# Distribution checks beyond reconciliation and quarantine, per staged table.
EXTRA_FRAMES: dict[str, tuple[Frame, ...]] = {
    "staging.stg_shop__orders": (_category_shares("staging.stg_shop__orders", "channel"),),
    "staging.stg_shop__order_lines": (_order_line_amounts(), _order_line_prices()),
    "staging.stg_web__events": (_category_shares("staging.stg_web__events", "event_name"),),
}

# The primary key of each staged model (its `unique` + `not_null` column in the models' YAML;
# tests/python/test_validation.py keeps the two equal).
STAGED_KEYS: dict[str, tuple[str, ...]] = {
    "staging.stg_shop__customers": ("customer_version_id",),
    "staging.stg_shop__products": ("product_id",),
    "staging.stg_shop__orders": ("order_id",),
    "staging.stg_shop__order_lines": ("order_line_id",),
    "staging.stg_shop__returns": ("return_id",),
    "staging.stg_web__events": ("event_id",),
    "staging.stg_crm__consents": ("consent_change_id",),
    "staging.stg_crm__loyalty_members": ("member_id",),
    "staging.stg_crm__service_cases": ("case_id",),
    "staging.stg_crm__surveys": ("response_id",),
    "staging.stg_marketing__communications": ("send_id",),
    "staging.stg_marketing__assignments": ("assignment_id",),
}

SUITES: tuple[TableSuite, ...] = tuple(
    TableSuite(
        table=_staged_model(raw.source, raw.name),
        layer="staging",
        description=f"Staged {raw.qualified_name}: keys, reconciliation (block); quarantine share, volume"
        + (", mixes" if _staged_model(raw.source, raw.name) in EXTRA_FRAMES else "")
        + " (warn, against the previous run)",
        frames=(
            _reconciliation(raw.qualified_name),
            _quarantine(raw.qualified_name),
            *EXTRA_FRAMES.get(_staged_model(raw.source, raw.name), ()),
        ),
        reads=(RECONCILIATION, SOURCE_TABLES),
        keys=STAGED_KEYS.get(_staged_model(raw.source, raw.name), ()),
        raw_table=raw.qualified_name,
    )
    for raw in RAW_TABLES
    if raw.staged
)
