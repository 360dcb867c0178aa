"""marts.customer_value: probabilities are probabilities, value is never negative, tiers are not collapsed.

Skipped ("table not built") until the value mart exists in the warehouse.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from orchestration.validation import frames
from orchestration.validation.suite import CRITICAL, WARNING, Frame, TableSuite

CUSTOMER_VALUE = "marts.customer_value"

RANGES = Frame(
    name="ranges",
    query=lambda _: frames.aggregate(
        CUSTOMER_VALUE,
        {
            # Exact over every row: one P(alive) of 1.2 must fail, whatever a sample would show.
            "p_alive_out_of_range": "count(*) filter (where p_alive < 0 or p_alive > 1)",
            # P(alive) is null only for customers without a purchase (documented in the mart).
            "buyers_without_p_alive": "count(*) filter (where p_alive is null and orders > 0)",
            "negative_predicted_clv": "count(*) filter (where predicted_clv < 0)",
            "top_tier_share": "avg(case when value_tier_rank = 1 then 1.0 else 0.0 end)",
            "tiers": "count(distinct value_tier)",
        },
    ),
    expectations=lambda t, _: [
        gxe.ExpectColumnValuesToBeBetween(column="p_alive_out_of_range", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="buyers_without_p_alive", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="negative_predicted_clv", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(
            column="top_tier_share",
            min_value=t["value"]["top_tier_share"][0],
            max_value=t["value"]["top_tier_share"][1],
            severity=CRITICAL,
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="tiers", min_value=t["value"]["min_tiers"], severity=CRITICAL
        ),
    ],
    description="Exact counts of impossible P(alive) and CLV values; the best tier's share.",
)

TIER_SHARES = Frame(
    name="value_tier_shares",
    query=lambda _: frames.shares(CUSTOMER_VALUE, "value_tier"),
    expectations=lambda t, _: [
        gxe.ExpectColumnValuesToNotBeNull(column="value_tier", severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(
            column="share", min_value=0, max_value=t["value"]["max_tier_share"], severity=CRITICAL
        ),
    ],
    description="Customers per value tier: no tier holds (almost) everyone.",
)

SAMPLE = Frame(
    name="sample",
    query=lambda t: frames.sample(
        CUSTOMER_VALUE,
        ["customer_key", "p_alive", "predicted_clv"],
        key="customer_key",
        limit=frames.max_sample_rows(t),
    ),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToBeBetween(column="p_alive", min_value=0, max_value=1, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="predicted_clv", min_value=0, severity=CRITICAL),
        # Everyone certainly alive or certainly gone means the model did not fit.
        gxe.ExpectColumnMeanToBeBetween(column="p_alive", min_value=0.02, max_value=0.98, severity=WARNING),
    ],
    description="A capped, hash-ordered sample: the P(alive) and CLV distributions in Data Docs.",
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_VALUE,
        layer="marts",
        description="Value per customer: P(alive) in [0, 1], CLV >= 0, value tier shares, volume.",
        frames=(RANGES, TIER_SHARES, SAMPLE),
    ),
)
