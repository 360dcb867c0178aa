"""Customer 360 and identity resolution: plausible shares and ranges per customer.

dbt tests hold the keys and relationships; these hold the distributions a broken
upstream feed would move: how many customers bought, consented, were over-merged.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from orchestration.validation import frames
from orchestration.validation.suite import CRITICAL, WARNING, Frame, TableSuite

CUSTOMER_360 = "customer_360.customer_360"
IDENTITY_COMPONENTS = "customer_360.identity_components"

# Columns that are shares of something and must lie in [0, 1] on every row.
SHARE_COLUMNS = (
    "discount_share",
    "return_rate",
    "channel_share_web",
    "channel_share_app",
    "channel_share_store",
)


def _out_of_unit_range(column: str) -> str:
    return f"count(*) filter (where {column} < 0 or {column} > 1)"


CUSTOMER_PROFILE = Frame(
    name="profile",
    query=lambda _: frames.aggregate(
        CUSTOMER_360,
        {
            "share_with_orders": "avg(case when orders_count > 0 then 1.0 else 0.0 end)",
            "email_consent_share": "avg(case when has_email_consent then 1.0 else 0.0 end)",
            "median_days_since_last_order": "median(days_since_last_order)",
            "negative_counts": "count(*) filter (where tenure_days < 0 or orders_count < 0 "
            "or days_since_last_order < 0)",
            "shares_out_of_range": " + ".join(_out_of_unit_range(c) for c in SHARE_COLUMNS),
        },
    ),
    expectations=lambda t, _: [
        gxe.ExpectColumnValuesToBeBetween(
            column="share_with_orders",
            min_value=t["customer_360"]["min_share_with_orders"],
            max_value=1,
            severity=CRITICAL,
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="email_consent_share",
            min_value=t["customer_360"]["email_consent_share"][0],
            max_value=t["customer_360"]["email_consent_share"][1],
            severity=CRITICAL,
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="median_days_since_last_order",
            min_value=0,
            max_value=t["customer_360"]["max_median_days_since_last_order"],
            severity=WARNING,
        ),
        gxe.ExpectColumnValuesToBeBetween(column="negative_counts", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="shares_out_of_range", max_value=0, severity=CRITICAL),
    ],
    description="Exact aggregates over every customer: who bought, who consented, impossible values.",
)

CUSTOMER_SAMPLE = Frame(
    name="sample",
    query=lambda t: frames.sample(
        CUSTOMER_360,
        ["customer_key", "tenure_days", "orders_count", "average_order_value", "return_rate", "age_band"],
        key="customer_key",
        limit=frames.max_sample_rows(t),
    ),
    expectations=lambda _t, lookup: [
        gxe.ExpectColumnValuesToNotBeNull(column="customer_key", severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="tenure_days", min_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="average_order_value", min_value=0, severity=CRITICAL),
        gxe.ExpectColumnMeanToBeBetween(
            column="orders_count", min_value=0.5, max_value=200, severity=WARNING
        ),
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
    expectations=lambda t, _: [
        gxe.ExpectColumnValuesToBeBetween(
            column="oversized_share", max_value=t["identity"]["max_oversized_share"], severity=CRITICAL
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="several_accounts_share",
            max_value=t["identity"]["max_several_accounts_share"],
            severity=CRITICAL,
        ),
    ],
    description="Over-merging: resolved customers that are too big or hold several accounts.",
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_360,
        layer="customer_360",
        description="One row per known customer: buyers, consent, ranges, volume.",
        frames=(CUSTOMER_PROFILE, CUSTOMER_SAMPLE),
        reads=("reference.age_bands",),
    ),
    TableSuite(
        table=IDENTITY_COMPONENTS,
        layer="customer_360",
        description="Resolved identities: over-merging stays rare.",
        frames=(IDENTITY_PROFILE,),
    ),
)
