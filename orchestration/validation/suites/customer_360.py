"""Customer 360 and identity resolution: impossible values block; shares and medians warn on drift.

dbt tests hold the keys and relationships; here the exact counts of impossible values
(negative counts, shares outside [0, 1]) and the seed's age bands block, and the figures a
broken upstream feed would move (who bought, who consented, how recently, over-merging)
are compared with the previous run's rather than with fixed ranges: a shop without
consent data, or with many prospects who never bought, is not an error.
"""

from __future__ import annotations

import re

import great_expectations.expectations as gxe

from orchestration.validation import frames
from orchestration.validation.suite import CRITICAL, SHAPE, SHARE, VALUE, Drift, Frame, Lookup, TableSuite

CUSTOMER_360 = "customer_360.customer_360"
IDENTITY_COMPONENTS = "customer_360.identity_components"

# Columns that are shares of something and must lie in [0, 1] on every row, found by name in
# the table (the sales-channel share columns follow the shop's own channels).
SHARE_COLUMNS = re.compile(r"^(discount_share|return_rate|channel_share_.+)$")


def _out_of_unit_range(lookup: Lookup) -> str:
    columns = [c for c in lookup.columns(CUSTOMER_360) if SHARE_COLUMNS.match(c)]
    if not columns:
        return "0"
    bad = " or ".join(f'"{c}" < 0 or "{c}" > 1' for c in columns)
    return f"count(*) filter (where {bad})"


CUSTOMER_RANGES = Frame(
    name="ranges",
    query=lambda _, lookup: frames.aggregate(
        CUSTOMER_360,
        {
            "negative_counts": "count(*) filter (where tenure_days < 0 or orders_count < 0 "
            "or days_since_last_order < 0)",
            "shares_out_of_range": _out_of_unit_range(lookup),
        },
    ),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToBeBetween(column="negative_counts", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="shares_out_of_range", max_value=0, severity=CRITICAL),
    ],
    description="Exact counts over every customer of impossible values (must be 0).",
)


def _profile(lookup: Lookup) -> str:
    figures = {
        "share_with_orders": "avg(case when orders_count > 0 then 1.0 else 0.0 end)",
        "median_days_since_last_order": "median(days_since_last_order)",
        "mean_orders_count": "avg(orders_count)",
    }
    # Consent flags exist per consent channel the data has: none without consent data.
    if "has_email_consent" in lookup.columns(CUSTOMER_360):
        figures["email_consent_share"] = "avg(case when has_email_consent then 1.0 else 0.0 end)"
    return frames.aggregate(CUSTOMER_360, figures)


CUSTOMER_PROFILE = Frame(
    name="profile",
    query=lambda _, lookup: _profile(lookup),
    expectations=lambda _t, _: [],
    description="Who bought, who consented, how recently: compared with the previous run's figures.",
    kind=SHAPE,
    drift=(
        Drift("share_with_orders", SHARE),
        Drift("email_consent_share", SHARE),
        Drift("median_days_since_last_order", VALUE),
        Drift("mean_orders_count", VALUE),
    ),
)

CUSTOMER_SAMPLE = Frame(
    name="sample",
    query=lambda t: frames.sample(
        CUSTOMER_360,
        ["customer_key", "tenure_days", "orders_count", "average_order_value", "age_band"],
        key="customer_key",
        limit=frames.max_sample_rows(t),
    ),
    expectations=lambda _t, lookup: [
        gxe.ExpectColumnValuesToNotBeNull(column="customer_key", severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="tenure_days", min_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="average_order_value", min_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeInSet(
            column="age_band",
            # The seed's bands, and 'unknown' for customers without a usable birth date.
            value_set=[*lookup.column_values("reference.age_bands", "age_band"), "unknown"],
            severity=CRITICAL,
        ),
    ],
    description="A capped, hash-ordered sample: value ranges and the age bands of the seed.",
)

IDENTITY_PROFILE = Frame(
    name="profile",
    query=lambda _: frames.aggregate(
        IDENTITY_COMPONENTS,
        {
            "oversized_share": "avg(case when is_oversized then 1.0 else 0.0 end)",
            "several_accounts_share": "avg(case when shop_accounts > 1 then 1.0 else 0.0 end) "
            "filter (where is_known_customer)",
        },
    ),
    expectations=lambda _t, _: [],
    description="Over-merging: resolved customers too big or holding several accounts, against the last run.",
    kind=SHAPE,
    drift=(Drift("oversized_share", SHARE), Drift("several_accounts_share", SHARE)),
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_360,
        layer="customer_360",
        description="One row per known customer: key, impossible values, age bands (block); "
        "buyers, consent, recency, volume (warn, against the previous run).",
        frames=(CUSTOMER_RANGES, CUSTOMER_PROFILE, CUSTOMER_SAMPLE),
        reads=("reference.age_bands",),
        keys=("customer_key",),
    ),
    TableSuite(
        table=IDENTITY_COMPONENTS,
        layer="customer_360",
        description="Resolved identities: key (block); over-merging shares (warn, against the previous run).",
        frames=(IDENTITY_PROFILE,),
        keys=("customer_key",),
    ),
)
