"""marts.customer_needs: every customer has a segment and a persona (block); the segment mix,
the number of segments and the cold-start share are compared with the previous run's (warn).

A young or narrow customer base legitimately has many cold-start customers (segment 0) and
few segments: those are not errors, a sudden change is worth a look.
Skipped ("table not built") until the needs mart exists in the warehouse.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from orchestration.validation import frames
from orchestration.validation.suite import COUNT, CRITICAL, SHAPE, SHARE, Drift, Frame, TableSuite

CUSTOMER_NEEDS = "marts.customer_needs"

SEGMENT_SHARES = Frame(
    name="segment_shares",
    query=lambda _: frames.shares(CUSTOMER_NEEDS, "needs_segment_id"),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToNotBeNull(column="needs_segment_id", severity=CRITICAL),
    ],
    description="Customers per needs segment: every customer has one; the mix against the last run.",
    drift=(Drift("share", SHARE, by="needs_segment_id"),),
)

PERSONAS = Frame(
    name="personas",
    query=lambda _: frames.aggregate(
        CUSTOMER_NEEDS, {"missing_persona_names": "count(*) filter (where persona_name is null)"}
    ),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToBeBetween(column="missing_persona_names", max_value=0, severity=CRITICAL),
    ],
    description="Every customer has a persona (must be 0 without).",
)

SEGMENTS = Frame(
    name="segments",
    query=lambda _: frames.aggregate(
        CUSTOMER_NEEDS,
        {
            # Segment 0 is the explicit cold-start/unknown segment, not a needs segment.
            "segments": "count(distinct needs_segment_id) filter (where needs_segment_id <> 0)",
            "unknown_share": "avg(case when needs_segment_id = 0 then 1.0 else 0.0 end)",
        },
    ),
    expectations=lambda _t, _: [],
    description="Number of segments and the cold-start share, against the last run.",
    kind=SHAPE,
    drift=(Drift("segments", COUNT), Drift("unknown_share", SHARE)),
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_NEEDS,
        layer="marts",
        description="Needs segment per customer: key, a segment and a persona each (block); "
        "segment mix, cold-start share, volume (warn, against the previous run).",
        frames=(SEGMENT_SHARES, PERSONAS, SEGMENTS),
        keys=("customer_key",),
    ),
)
