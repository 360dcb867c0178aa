"""activation.customer_treatments: the last gate before the reverse-ETL syncs.

Integrity (blocks the syncs, which are downstream of this table): keys; no sent row in a
channel without current consent (recomputed against the 360's consent flags, exactly, over
every row); no holdout leakage (a row held out without a holdout type, or treated with one;
a global control group far below its configured share, i.e. customers who should be held
out are treated). Shape (warns, against the previous run): the treatment and channel mixes
and the share held out.
"""

from __future__ import annotations

import re
from functools import cache

import great_expectations.expectations as gxe
import yaml

from orchestration.dbt_cli import PROJECT_DIR
from orchestration.validation import frames
from orchestration.validation.suite import (
    CRITICAL,
    SHAPE,
    SHARE,
    WARNING,
    Drift,
    Frame,
    Lookup,
    TableSuite,
    Thresholds,
)

CUSTOMER_TREATMENTS = "activation.customer_treatments"
CUSTOMER_360 = "customer_360.customer_360"
CONSENT_FLAG = re.compile(r"^has_(.+)_consent$")


@cache
def configured_global_holdout_share() -> float:
    """The share the project is configured with (dbt_project.yml var activation_global_holdout_share)."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return float(project["vars"]["activation_global_holdout_share"])


def channel_suffix(channel: str) -> str:
    """The column-name part of a channel, as the 360 names its flags (macro feature_column_suffix)."""
    return re.sub("[^a-z0-9]+", "_", channel.lower()).strip("_")


def _sent_without_consent(lookup: Lookup) -> str:
    """Treatments joined to the consent flag of their channel; a channel without a flag has no consent."""
    flags = [m.group(1) for c in lookup.columns(CUSTOMER_360) if (m := CONSENT_FLAG.match(c))]
    channel = "regexp_replace(lower(t.channel), '[^a-z0-9]+', '_', 'g')"
    cases = " ".join(f"when '{suffix}' then c.has_{suffix}_consent" for suffix in flags)
    consent = f"case trim({channel}, '_') {cases} else false end" if flags else "false"
    return (
        f"(select t.is_holdout, t.holdout_type, {consent} as has_consent "
        f"from {CUSTOMER_TREATMENTS} as t left join {CUSTOMER_360} as c using (customer_key))"
    )


GUARDS = Frame(
    name="hard_limits",
    query=lambda _, lookup: frames.aggregate(
        _sent_without_consent(lookup),
        {
            # Exact: one row in a channel without consent must stop the syncs.
            "sent_without_consent": "count(*) filter (where not is_holdout and not coalesce(has_consent, false))",
            # Holdout leakage: held out without a holdout type, or treated while in a holdout.
            "holdout_mismatch": "count(*) filter (where is_holdout is null "
            "or is_holdout <> (holdout_type is not null))",
            "rows": "count(*)",
        },
    ),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToBeBetween(column="sent_without_consent", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="holdout_mismatch", max_value=0, severity=CRITICAL),
    ],
    description="Rows sent in a channel without consent, and rows whose holdout flag and type disagree "
    "(both must be 0).",
)


def _holdout_expectations(t: Thresholds, _: Lookup) -> list[gxe.Expectation]:
    z = float(t["activation"]["global_holdout_max_z"])
    return [
        # Far too few in the global control group: customers who should be held out are treated.
        gxe.ExpectColumnValuesToBeBetween(column="global_holdout_z", min_value=-z, severity=CRITICAL),
        # Far too many: fewer treated than configured; costs reach, harms nobody.
        gxe.ExpectColumnValuesToBeBetween(column="global_holdout_z", max_value=z, severity=WARNING),
    ]


def _holdout_query(_: Thresholds) -> str:
    share = configured_global_holdout_share()
    observed = "avg(case when holdout_type = 'global' then 1.0 else 0.0 end)"
    # The global holdout is a stable hash draw per customer: its share among n rows is binomial
    # around the configured share, with standard error sqrt(p (1 - p) / n).
    spread = f"sqrt({share} * (1 - {share}) / nullif(count(*), 0))"
    return frames.aggregate(
        CUSTOMER_TREATMENTS,
        {
            "global_holdout_share": observed,
            "configured_global_holdout_share": f"{share}",
            "global_holdout_z": f"({observed} - {share}) / nullif({spread}, 0)",
        },
    )


HOLDOUTS = Frame(
    name="global_holdout",
    query=_holdout_query,
    expectations=_holdout_expectations,
    description="The global control group's share against its configuration, in binomial standard errors.",
)

MIX = Frame(
    name="mix",
    query=lambda _: frames.aggregate(
        CUSTOMER_TREATMENTS, {"holdout_share": "avg(case when is_holdout then 1.0 else 0.0 end)"}
    ),
    expectations=lambda _t, _: [],
    description="Share of rows held out (all holdouts), against the last run.",
    kind=SHAPE,
    drift=(Drift("holdout_share", SHARE),),
)

TREATMENT_MIX = Frame(
    name="treatment_shares",
    query=lambda _: frames.shares(CUSTOMER_TREATMENTS, "treatment_code"),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToNotBeNull(column="treatment_code", severity=CRITICAL),
    ],
    description="Rows per treatment: every row has one; the mix against the last run.",
    drift=(Drift("share", SHARE, by="treatment_code"),),
)

CHANNEL_MIX = Frame(
    name="channel_shares",
    query=lambda _: frames.shares(CUSTOMER_TREATMENTS, "channel"),
    expectations=lambda _t, _: [],
    description="Rows per channel, against the last run.",
    kind=SHAPE,
    drift=(Drift("share", SHARE, by="channel"),),
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=CUSTOMER_TREATMENTS,
        layer="activation",
        description="Treatments: keys, consent on every sent row, no holdout leakage (block); "
        "treatment and channel mix, holdout share, volume (warn, against the previous run).",
        frames=(GUARDS, HOLDOUTS, MIX, TREATMENT_MIX, CHANNEL_MIX),
        reads=(CUSTOMER_360,),
        keys=("assignment_id", "customer_key"),
        # Legitimately empty when nobody is contactable (no consent data): its drift still warns
        # when a run that had treatments has none.
        min_rows=0,
    ),
)
