"""marts.customer_needs: the needs segments have not collapsed into one.

Skipped ("table not built") until the needs mart exists in the warehouse.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from orchestration.validation import frames
from orchestration.validation.suite import CRITICAL, Frame, TableSuite

CUSTOMER_NEEDS = "marts.customer_needs"

SEGMENT_SHARES = Frame(
    name="segment_shares",
    query=lambda _: frames.shares(CUSTOMER_NEEDS, "needs_segment_id"),
    expectations=lambda t, _: [
        gxe.ExpectColumnValuesToBeBetween(
            column="share", min_value=0, max_value=t["needs"]["max_segment_share"], severity=CRITICAL
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="needs_segment_id", severity=CRITICAL),
    ],
    description="Customers per needs segment: no segment holds more than the configured share.",
)

SEGMENTS = Frame(
    name="segments",
    query=lambda _: frames.aggregate(
        CUSTOMER_NEEDS,
        {
            # Segment 0 is the explicit cold-start/unknown segment, not a needs segment.
            "segments": "count(distinct needs_segment_id) filter (where needs_segment_id <> 0)",
            "unknown_share": "avg(case when needs_segment_id = 0 then 1.0 else 0.0 end)",
            "missing_persona_names": "count(*) filter (where persona_name is null)",
        },
    ),
    expectations=lambda t, _: [
        gxe.ExpectColumnValuesToBeBetween(
            column="segments", min_value=t["needs"]["min_segments"], severity=CRITICAL
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="unknown_share", min_value=0, max_value=t["needs"]["max_unknown_share"], severity=CRITICAL
        ),
        gxe.ExpectColumnValuesToBeBetween(column="missing_persona_names", max_value=0, severity=CRITICAL),
    ],
    description="At least k segments, the cold-start segment stays a minority, every customer has a persona.",
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_NEEDS,
        layer="marts",
        description="Needs segment per customer: segment sizes not collapsed, personas named, volume.",
        frames=(SEGMENT_SHARES, SEGMENTS),
    ),
)
