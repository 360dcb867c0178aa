"""activation.customer_treatments: the last gate before the reverse-ETL syncs.

What dbt's tests cannot see row by row: no sent row in a channel without current consent
(recomputed against the 360's consent flags, exactly, over every row), holdout shares near
their configuration, and a treatment mix that has not collapsed into one treatment or emptied.
A critical failure here stops the sync assets, which are downstream of this table.
"""

from __future__ import annotations

from functools import cache

import great_expectations.expectations as gxe
import yaml

from orchestration.dbt_cli import PROJECT_DIR
from orchestration.validation import frames
from orchestration.validation.suite import CRITICAL, WARNING, Frame, TableSuite

CUSTOMER_TREATMENTS = "activation.customer_treatments"
CUSTOMER_360 = "customer_360.customer_360"
CONSENT_CHANNELS = ("email", "sms", "push", "post", "phone")


@cache
def configured_global_holdout_share() -> float:
    """The share the project is configured with (dbt_project.yml var activation_global_holdout_share)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return float(project["vars"]["activation_global_holdout_share"])


def _sent_without_consent() -> str:
    consent = " ".join(f"when '{channel}' then c.has_{channel}_consent" for channel in CONSENT_CHANNELS)
    return (
        f"(select t.is_holdout, case t.channel {consent} else false end as has_consent "
        f"from {CUSTOMER_TREATMENTS} as t left join {CUSTOMER_360} as c using (customer_key))"
    )


GUARDS = Frame(
    name="hard_limits",
    query=lambda _: frames.aggregate(
        _sent_without_consent(),
        {
            # Exact: one row in a channel without consent must stop the syncs.
            "sent_without_consent": "count(*) filter (where not is_holdout and not coalesce(has_consent, false))",
            "rows": "count(*)",
        },
    ),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToBeBetween(column="sent_without_consent", max_value=0, severity=CRITICAL),
    ],
    description="Rows that would be sent in a channel the customer does not consent to (must be 0).",
)

HOLDOUTS = Frame(
    name="holdout_shares",
    query=lambda _: frames.aggregate(
        CUSTOMER_TREATMENTS,
        {
            "global_holdout_share": "avg(case when holdout_type = 'global' then 1.0 else 0.0 end)",
            "holdout_share": "avg(case when is_holdout then 1.0 else 0.0 end)",
        },
    ),
    expectations=lambda t, _: [
        gxe.ExpectColumnValuesToBeBetween(
            column="global_holdout_share",
            min_value=max(
                0.0, configured_global_holdout_share() - t["activation"]["holdout_share_tolerance"]
            ),
            max_value=configured_global_holdout_share() + t["activation"]["holdout_share_tolerance"],
            severity=CRITICAL,
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="holdout_share", max_value=t["activation"]["max_holdout_share"], severity=CRITICAL
        ),
    ],
    description="The global control group's share near its configuration; all holdouts under a ceiling.",
)

TREATMENT_MIX = Frame(
    name="treatment_shares",
    query=lambda _: frames.shares(CUSTOMER_TREATMENTS, "treatment_code"),
    expectations=lambda t, _: [
        gxe.ExpectColumnValuesToNotBeNull(column="treatment_code", severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(
            column="share", max_value=t["activation"]["max_treatment_share"], severity=WARNING
        ),
    ],
    description="Rows per treatment: one treatment taking (almost) everyone means a rule broke.",
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_TREATMENTS,
        layer="activation",
        description="Treatments: consent on every sent row, holdout shares, treatment mix, volume.",
        frames=(GUARDS, HOLDOUTS, TREATMENT_MIX),
        reads=(CUSTOMER_360,),
    ),
)
