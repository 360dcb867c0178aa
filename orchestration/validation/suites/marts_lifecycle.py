"""marts.customer_lifecycle: customers are only ever in the stages its seed defines (block);
the stage mix is compared with the previous run's (warn).

Skipped ("table not built") until the journey mart exists in the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence

import great_expectations.expectations as gxe
from great_expectations.expectations import Expectation

from orchestration.validation import frames
from orchestration.validation.suite import CRITICAL, SHARE, Drift, Frame, Lookup, TableSuite, Thresholds

CUSTOMER_LIFECYCLE = "marts.customer_lifecycle"


def seed_stages(t: Thresholds, lookup: Lookup) -> list[str]:
    """The stages listed in the lifecycle seed (the first configured seed table that exists)."""
    config = t["lifecycle"]
    for table in config["stage_seeds"]:
        if lookup.table_exists(table):
            return [str(v) for v in lookup.column_values(table, config["stage_column"]) if v is not None]
    raise LookupError(
        f"none of the lifecycle stage seeds {config['stage_seeds']} exists in the warehouse "
        "(set lifecycle.stage_seeds in orchestration/validation/thresholds.yml)"
    )


def _expectations(t: Thresholds, lookup: Lookup) -> Sequence[Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="lifecycle_stage", severity=CRITICAL),
        gxe.ExpectColumnValuesToBeInSet(
            column="lifecycle_stage", value_set=seed_stages(t, lookup), severity=CRITICAL
        ),
    ]


STAGE_SHARES = Frame(
    name="stage_shares",
    query=lambda _: frames.shares(CUSTOMER_LIFECYCLE, "lifecycle_stage"),
    expectations=_expectations,
    description="Customers per lifecycle stage: only the seed's stages; the mix against the last run "
    "(a young or date-only shop may not reach every stage).",
    drift=(Drift("share", SHARE, by="lifecycle_stage"),),
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_LIFECYCLE,
        layer="marts",
        description="Current lifecycle stage per customer: key, the seed's stages only (block); "
        "stage mix, volume (warn, against the previous run).",
        frames=(STAGE_SHARES,),
        keys=("customer_key",),
    ),
)
