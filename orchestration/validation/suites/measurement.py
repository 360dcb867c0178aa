"""measurement: outcomes that are possible and effects whose statistics are coherent.

Row by row dbt tests check keys and ranges; these block on what a reader of the effects
relies on: no control customer was sent the treatment (a leaking holdout makes every uplift
meaningless), outcomes are not negative, and every reported interval contains its estimate
with p-values that are probabilities (a cell without variance has null bounds: nothing to
contradict). The control group's share is a shape, compared with the previous run (warn).
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from orchestration.validation import frames
from orchestration.validation.suite import CRITICAL, SHAPE, SHARE, Drift, Frame, TableSuite

TREATMENT_OUTCOMES = "measurement.treatment_outcomes"
TREATMENT_EFFECTS = "measurement.treatment_effects"
METRICS = ("visit_rate", "conversion_rate", "revenue_per_customer", "margin_per_customer")

OUTCOMES = Frame(
    name="outcomes",
    query=lambda _: frames.aggregate(
        TREATMENT_OUTCOMES,
        {
            # Exact counts over every assignment.
            "controls_sent_a_message": "count(*) filter (where not is_treated and message_sent)",
            "negative_revenue": "count(*) filter (where revenue < 0)",
            "converted_without_orders": "count(*) filter (where converted and orders_count = 0)",
        },
    ),
    expectations=lambda _t, _: [
        gxe.ExpectColumnValuesToBeBetween(column="controls_sent_a_message", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="negative_revenue", max_value=0, severity=CRITICAL),
        gxe.ExpectColumnValuesToBeBetween(column="converted_without_orders", max_value=0, severity=CRITICAL),
    ],
    description="Controls never messaged, outcomes possible (all must be 0).",
)

CONTROL_SHARE = Frame(
    name="control_share",
    query=lambda _: frames.aggregate(
        TREATMENT_OUTCOMES, {"control_share": "avg(case when is_treated then 0.0 else 1.0 end)"}
    ),
    expectations=lambda _t, _: [],
    description="Share of assignments in a control group, against the last run.",
    kind=SHAPE,
    drift=(Drift("control_share", SHARE),),
)


def _incoherent(metric: str) -> str:
    estimate, lower, upper = f"{metric}_uplift", f"{metric}_uplift_lower", f"{metric}_uplift_upper"
    return (
        f"count(*) filter (where {lower} > {estimate} or {estimate} > {upper} "
        f"or {metric}_p_value < 0 or {metric}_p_value > 1)"
    )


EFFECTS = Frame(
    name="effect_statistics",
    query=lambda _: frames.aggregate(
        TREATMENT_EFFECTS,
        {
            **{f"{metric}_incoherent": _incoherent(metric) for metric in METRICS},
            "rates_out_of_range": (
                "count(*) filter (where conversion_rate_treated not between 0 and 1 "
                "or conversion_rate_control not between 0 and 1)"
            ),
        },
    ),
    expectations=lambda _t, _: [
        *(
            gxe.ExpectColumnValuesToBeBetween(column=f"{metric}_incoherent", max_value=0, severity=CRITICAL)
            for metric in METRICS
        ),
        gxe.ExpectColumnValuesToBeBetween(column="rates_out_of_range", max_value=0, severity=CRITICAL),
    ],
    description="Every interval contains its estimate; p-values and rates are probabilities.",
)

SUITES: tuple[TableSuite, ...] = (
    TableSuite(
        table=TREATMENT_OUTCOMES,
        layer="measurement",
        description="Outcomes per assignment: key, controls never messaged, outcomes possible (block); "
        "control share, volume (warn, against the previous run).",
        frames=(OUTCOMES, CONTROL_SHARE),
        keys=("assignment_key",),
        min_rows=0,  # empty without experiments or treatments; drift warns when it empties
    ),
    TableSuite(
        table=TREATMENT_EFFECTS,
        layer="measurement",
        description="Effects: key, coherent intervals and p-values, rates in [0, 1] (block); volume (warn).",
        frames=(EFFECTS,),
        keys=("effect_id",),
        min_rows=0,  # empty without experiments or treatments; drift warns when it empties
    ),
)
