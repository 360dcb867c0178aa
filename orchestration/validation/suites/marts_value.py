"""marts.customer_value: probabilities are probabilities and value is never negative (block);
the tier mix and the P(alive) distribution are compared with the previous run's (warn).

Skipped ("table not built") until the value mart exists in the warehouse.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations import Expectation

from orchestration.validation import frames
from orchestration.validation.suite import (
    COUNT,
    CRITICAL,
    SHAPE,
    SHARE,
    VALUE,
    WARNING,
    Drift,
    Frame,
    Lookup,
    TableSuite,
    Thresholds,
)

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
        },
    ),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToBeBetween(column="p_alive_out_of_range", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="buyers_without_p_alive", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="negative_predicted_clv", max_value=0, severity=CRITICAL),
    ],
    description="Exact counts of impossible P(alive) and CLV values (must be 0).",
)

TIERS = Frame(
    name="tiers",
    query=lambda _: frames.aggregate(
        CUSTOMER_VALUE,
        {
            "top_tier_share": "avg(case when value_tier_rank = 1 then 1.0 else 0.0 end)",
            "tiers": "count(distinct value_tier)",
            "mean_p_alive": "avg(p_alive)",
            "median_predicted_clv": "median(predicted_clv)",
        },
    ),
    expectations=lambda _t, _: [],
    description="The best tier's share, the number of tiers, mean P(alive), median CLV: against the last run.",
    kind=SHAPE,
    drift=(
        Drift("top_tier_share", SHARE),
        Drift("tiers", COUNT),
        Drift("mean_p_alive", VALUE),
        Drift("median_predicted_clv", VALUE),
    ),
)

TIER_SHARES = Frame(
    name="value_tier_shares",
    query=lambda _: frames.shares(CUSTOMER_VALUE, "value_tier"),
    expectations=lambda _t, _: [gxe.ExpectColumnValuesToNotBeNull(column="value_tier", severity=CRITICAL)],
    description="Customers per value tier: every customer has a tier; the mix against the last run.",
    drift=(Drift("share", SHARE, by="value_tier"),),
)


def _sample_expectations(t: Thresholds, _: Lookup) -> list[Expectation]:
    found: list[Expectation] = [
        gxe.ExpectColumnValuesToBeBetween(column="p_alive", min_value=0, max_value=1, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="predicted_clv", min_value=0, severity=CRITICAL),
    ]
    # Everyone certainly alive or certainly gone means the model did not fit: a sanity limit,
    # not a fitted figure (thresholds.yml value.mean_p_alive; null switches it off).
    bounds = t["value"].get("mean_p_alive")
    if bounds:
        found.append(
            gxe.ExpectColumnMeanToBeBetween(
                column="p_alive", min_value=bounds[0], max_value=bounds[1], severity=WARNING
            )
        )
    return found


SAMPLE = Frame(
    name="sample",
    query=lambda t: frames.sample(
        CUSTOMER_VALUE,
        ["customer_key", "p_alive", "predicted_clv"],
        key="customer_key",
        limit=frames.max_sample_rows(t),
    ),
    expectations=_sample_expectations,
    description="A capped, hash-ordered sample: the P(alive) and CLV distributions in Data Docs.",
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_VALUE,
        layer="marts",
        description="Value per customer: key, P(alive) in [0, 1], CLV >= 0, a tier each (block); "
        "tier mix, P(alive), CLV, volume (warn, against the previous run).",
        frames=(RANGES, TIERS, TIER_SHARES, SAMPLE),
        keys=("customer_key",),
    ),
)
