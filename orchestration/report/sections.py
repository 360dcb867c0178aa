"""The report's sections: what each one queries and shows, and what it says when data is missing.

Each function reads a few marts (by the schema dbt_project.yml puts them in, see
macros/generate_schema_name.sql) and returns a `Section`. A figure whose source the company did
not provide (audit.audit__source_tables), whose model is not built, or that has too little data
becomes a sentence saying so; labels come from the data, never from a fixed vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.report import figures
from orchestration.report.data import Warehouse, project_var
from orchestration.report.figures import Chart
from orchestration.report.qini import qini_curves

# Points of the Lorenz and ranked-CLV curves: enough for a smooth line at any customer count.
CURVE_POINTS = 400
# Month ends the lifecycle Sankey flows between (the as-of date is the last).
SANKEY_MONTHS = 4
# The top share the Pareto figure marks (the classic "20% of customers").
PARETO_TOP_SHARE = 0.2


@dataclass
class Section:
    """One part of the page: headline numbers, figures, persona cards, tables."""

    key: str
    title: str
    intro: str
    kpis: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    cards: list[dict[str, object]] = field(default_factory=list)
    tables: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class Checks:
    """Checks of the build: passed, warned, failed and where the numbers come from."""

    passed: int
    warned: int
    failed: int
    origin: str


def _number(value: object, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{float(value):,.{digits}f}"


def _not_provided(missing: list[str]) -> str:
    return f"Not provided: this build was given no {', '.join(missing)} data."


def _not_built(relation: str) -> str:
    return f"Not available in this build: {relation} is not built."


# --- overview -------------------------------------------------------------------------------


def overview(w: Warehouse, as_of: str | None, checks: Checks | None) -> Section:
    section = Section(
        "overview",
        "Overview",
        "What this build holds: customers and their revenue, the raw rows it was given and what "
        "staging refused, and the checks it passed.",
    )
    kpis = section.kpis
    kpis.append(("as-of date", as_of or "unknown"))
    if w.has("marts.customer_value"):
        kpis.append(("customers", _number(w.scalar("select count(*) from marts.customer_value"))))
    if w.has("marts.value_revenue_totals"):
        totals = w.frame("select * from marts.value_revenue_totals").iloc[0]
        unit = f" {totals['reporting_currency']}" if pd.notna(totals["reporting_currency"]) else ""
        kpis.append(("identified revenue", _number(totals["identified_net_revenue"]) + unit))
        kpis.append(("anonymous revenue", _number(totals["unidentified_net_revenue"]) + unit))
    if w.has("audit.audit__row_reconciliation"):
        raw, staged, quarantined = w.connection.execute(
            "select sum(raw_rows), sum(staged_rows), sum(quarantined_rows) from audit.audit__row_reconciliation"
        ).fetchone()
        kpis += [
            ("raw rows", _number(raw)),
            ("staged", _number(staged)),
            ("quarantined", _number(quarantined)),
        ]
    if checks is not None:
        kpis.append(("checks passed", f"{checks.passed:,}"))
        if checks.warned:
            kpis.append(("checks warned", f"{checks.warned:,}"))
        kpis.append(("checks failed", f"{checks.failed:,}"))
    else:
        kpis.append(("checks passed", "not recorded"))
    sources = w.source_tables()
    if sources:
        section.tables.append(
            {
                "title": "Raw tables this build was given",
                "caption": f"Source: audit.audit__source_tables · as of {as_of}",
                "headers": ["raw table", "provided"],
                "rows": [[name, "yes" if provided else "not provided"] for name, provided in sources.items()],
            }
        )
    if checks is not None:
        section.intro += f" Checks: {checks.origin}."
    return section


# --- value ----------------------------------------------------------------------------------


def value(w: Warehouse, as_of: str | None) -> Section:
    section = Section(
        "value",
        "Value",
        "How concentrated revenue is, the value tiers, predicted customer lifetime value (CLV) with "
        "its uncertainty, and whether the CLV model's purchase predictions hold on a held-out period.",
    )
    section.charts += [_pareto(w, as_of), _tiers(w, as_of), _clv_ranked(w, as_of), _calibration(w, as_of)]
    return section


def _pareto(w: Warehouse, as_of: str | None) -> Chart:
    sources = ("marts.customer_value", "marts.value_pareto_curve")
    title = "Revenue concentration (Lorenz curve)"
    if not w.has("marts.customer_value"):
        return Chart("value-pareto", title, sources, as_of, missing=_not_built("marts.customer_value"))
    curve = w.frame(
        f"""
        select max(revenue_rank_share) as customer_share, max(cumulative_revenue_share) as revenue_share
        from (
            select revenue_rank_share, cumulative_revenue_share,
                ntile({CURVE_POINTS}) over (order by revenue_rank_share, cumulative_revenue_share) as bucket
            from marts.customer_value
            where revenue_rank_share is not null and cumulative_revenue_share is not null
        )
        group by bucket order by 1
        """
    )
    total = w.scalar("select sum(revenue) from marts.customer_value")
    if curve.empty or not total:
        return Chart("value-pareto", title, sources, as_of, missing="No customer has revenue yet.")
    # revenue_rank_share counts the customers above one; the curve's x is "at or above".
    count = w.scalar("select count(*) from marts.customer_value")
    curve["customer_share"] = (curve["customer_share"] + 1.0 / float(count)).clip(upper=1.0)
    top_share, top_revenue = PARETO_TOP_SHARE, None
    if w.has("marts.value_pareto_curve"):
        points = w.frame("select top_customer_share, revenue_share from marts.value_pareto_curve")
        if not points.empty:
            nearest = points.iloc[(points["top_customer_share"] - PARETO_TOP_SHARE).abs().argmin()]
            top_share, top_revenue = float(nearest["top_customer_share"]), float(nearest["revenue_share"])
    if top_revenue is None:
        top_revenue = float(np.interp(top_share, curve["customer_share"], curve["revenue_share"]))
    figure = figures.lorenz_curve(curve, top_share, top_revenue)
    note = f"The top {top_share:.0%} of customers bring {top_revenue:.0%} of identified revenue."
    return Chart("value-pareto", title, sources, as_of, figure=figure, note=note)


def _tiers(w: Warehouse, as_of: str | None) -> Chart:
    sources = ("marts.customer_value",)
    title = "Value tiers: share of customers and of revenue"
    if not w.has("marts.customer_value"):
        return Chart("value-tiers", title, sources, as_of, missing=_not_built("marts.customer_value"))
    tiers = w.frame(
        """
        select value_tier, min(value_tier_rank) as tier_rank,
            count(*) / sum(count(*)) over () as customer_share,
            coalesce(sum(revenue) / nullif(sum(sum(revenue)) over (), 0), 0) as revenue_share
        from marts.customer_value group by value_tier order by tier_rank nulls last, value_tier
        """
    )
    if tiers.empty:
        return Chart("value-tiers", title, sources, as_of, missing="No customer in this build.")
    figure = figures.bars(
        tiers,
        "value_tier",
        [("customer_share", "share of customers"), ("revenue_share", "share of revenue")],
        "value tier",
        "share",
        percent=True,
    )
    return Chart("value-tiers", title, sources, as_of, figure=figure)


def _clv_ranked(w: Warehouse, as_of: str | None) -> Chart:
    sources = ("marts.customer_value",)
    title = "Predicted CLV with its predictive interval"
    if not w.has("marts.customer_value"):
        return Chart("value-clv", title, sources, as_of, missing=_not_built("marts.customer_value"))
    ranked = w.frame(
        f"""
        select max(position) as customer_share, avg(predicted_clv) as predicted_clv,
            avg(predicted_clv_lower) as predicted_clv_lower, avg(predicted_clv_upper) as predicted_clv_upper,
            max(clv_horizon_days) as horizon
        from (
            select predicted_clv, predicted_clv_lower, predicted_clv_upper, clv_horizon_days,
                percent_rank() over (order by predicted_clv desc) as position,
                ntile({CURVE_POINTS}) over (order by predicted_clv desc) as bucket
            from marts.customer_value where predicted_clv is not null
        )
        group by bucket order by 1
        """
    )
    if ranked.empty:
        return Chart(
            "value-clv",
            title,
            sources,
            as_of,
            missing="No predicted CLV: the CLV model was not fitted in this build.",
        )
    level = project_var("clv_interval_level")
    figure = figures.ranked_interval(ranked, float(level) if level else None)
    horizon = ranked["horizon"].max()
    note = (
        f"Expected revenue over the next {_number(horizon)} days, customers ranked from highest; the band "
        "is the predictive interval (width configured by var clv_interval_level)."
    )
    return Chart("value-clv", title, sources, as_of, figure=figure, note=note)


def _calibration(w: Warehouse, as_of: str | None) -> Chart:
    relation = "marts.clv_calibration"
    title = "CLV calibration: predicted against actual purchases in a hold-out period"
    needed = {"calibration_frequency", "customers", "predicted_purchases_mean", "actual_purchases_mean"}
    if not w.has(relation) or not needed <= w.columns(relation):
        return Chart("value-calibration", title, (relation,), as_of, missing=_not_built(relation))
    frame = w.frame(f"select * from {relation}")
    if frame.empty:
        return Chart(
            "value-calibration", title, (relation,), as_of, missing="Too little history to calibrate."
        )
    # Buckets may be integers or text such as '7+': sort numerically on their leading digits.
    order = pd.to_numeric(
        frame["calibration_frequency"].astype(str).str.extract(r"(\d+)")[0], errors="coerce"
    )
    frame = frame.assign(_order=order).sort_values(["_order", "calibration_frequency"])
    holdout = frame["holdout_days"].iloc[0] if "holdout_days" in frame else "hold-out"
    figure = figures.calibration(frame, holdout)
    return Chart("value-calibration", title, (relation,), as_of, figure=figure)


# --- needs ----------------------------------------------------------------------------------


def needs(w: Warehouse, as_of: str | None) -> Section:
    section = Section(
        "needs",
        "Needs",
        "The needs-based segments: how large they are, what sets each apart from the average "
        "customer, and who their personas are.",
    )
    profiles_relation = "marts.needs_segment_profiles"
    if not w.has(profiles_relation):
        section.charts.append(
            Chart(
                "needs-sizes",
                "Segment sizes",
                (profiles_relation,),
                as_of,
                missing=_not_built(profiles_relation),
            )
        )
        return section
    profiles = w.frame(f"select * from {profiles_relation} order by needs_segment_id")
    sizes = profiles.assign(
        segment=profiles["needs_segment_id"].astype(str) + " · " + profiles["persona_name"]
    )
    section.charts.append(
        Chart(
            "needs-sizes",
            "Segment sizes: share of customers and of revenue",
            (profiles_relation,),
            as_of,
            figure=figures.bars(
                sizes,
                "segment",
                [("customer_share", "share of customers"), ("revenue_share", "share of revenue")],
                "segment",
                "share",
                orientation="h",
                percent=True,
            ),
        )
    )
    section.charts.append(_profile_heatmap(w, as_of, profiles))
    for _, row in profiles.iterrows():
        section.cards.append(
            {
                "title": f"{row['needs_segment_id']} · {row['persona_name']}",
                "description": row["persona_description"] if pd.notna(row["persona_description"]) else None,
                "facts": [
                    ("customers", f"{_number(row['customers_count'])} ({_percent(row['customer_share'])})"),
                    ("revenue share", _percent(row["revenue_share"])),
                    ("revenue per customer", _number(row["revenue_per_customer"], 2)),
                    ("orders per customer", _number(row["orders_per_customer"], 2)),
                    ("sets it apart", _text(row["distinguishing_features"])),
                    ("typical category", _with_share(row["typical_category"], row["typical_category_share"])),
                    ("typical channel", _with_share(row["typical_channel"], row["typical_channel_share"])),
                    ("typical device", _text(row["typical_device"])),
                ],
            }
        )
    return section


def _percent(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value):.1%}"


def _text(value: object) -> str:
    return "not provided" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _with_share(label: object, share: object) -> str:
    text = _text(label)
    return text if text == "not provided" else f"{text} ({_percent(share)})"


def _profile_heatmap(w: Warehouse, as_of: str | None, profiles: pd.DataFrame) -> Chart:
    relation = "marts.needs_segment_centroids"
    title = "What sets each segment apart (centroid, standard deviations from the average)"
    sources = (relation, "marts.needs_segment_profiles")
    if not w.has(relation):
        return Chart("needs-profile", title, sources, as_of, missing=_not_built(relation))
    centroids = w.frame(f"select segment_id, feature_name, center_scaled from {relation}")
    if centroids.empty:
        return Chart(
            "needs-profile",
            title,
            sources,
            as_of,
            missing="No segments fitted: too few customers with enough orders for the clustering.",
        )
    names = dict(zip(profiles["needs_segment_id"], profiles["persona_name"], strict=True))
    centroids["segment"] = [f"{s} · {names.get(s, '')}" for s in centroids["segment_id"]]
    matrix = centroids.pivot_table(
        index="segment", columns="feature_name", values="center_scaled", aggfunc="mean"
    )
    # Features ordered by how much they separate the segments, the strongest first.
    matrix = matrix[matrix.abs().max().sort_values(ascending=False).index]
    return Chart("needs-profile", title, sources, as_of, figure=figures.heatmap(matrix, "z"))


# --- journey --------------------------------------------------------------------------------


def _month_ends(as_of: date, months: int) -> list[date]:
    """The last day of each of the months before the as-of month, then the as-of date itself."""
    ends = [as_of]
    current = as_of.replace(day=1) - timedelta(days=1)
    for _ in range(months - 1):
        ends.append(current)
        current = current.replace(day=1) - timedelta(days=1)
    return sorted(ends)


def journey(w: Warehouse, as_of: str | None) -> Section:
    section = Section(
        "journey",
        "Journey",
        "Where customers are in the lifecycle, how they move between stages from one month to the "
        "next, and the stages' KPIs over time.",
    )
    section.charts += [_sankey(w, as_of), *_journey_kpis(w, as_of)]
    return section


def _stage_order(w: Warehouse) -> dict[str, int]:
    if not w.has("reference.lifecycle_stages"):
        return {}
    rows = w.connection.execute(
        "select lifecycle_stage, stage_order from reference.lifecycle_stages"
    ).fetchall()
    return {stage: int(order) for stage, order in rows}


def _sankey(w: Warehouse, as_of: str | None) -> Chart:
    relation = "marts.customer_lifecycle_history"
    title = "Lifecycle flows from one month end to the next"
    if not w.has(relation) or as_of is None:
        return Chart("journey-flows", title, (relation,), as_of, missing=_not_built(relation))
    ends = _month_ends(date.fromisoformat(as_of), SANKEY_MONTHS)
    points = ", ".join(f"({i}, date '{d.isoformat()}')" for i, d in enumerate(ends))
    links = w.frame(
        f"""
        with points as (select * from (values {points}) as p(step, point_date)),
        stage_at as (
            select points.step, history.customer_key, history.lifecycle_stage
            from points
            inner join {relation} as history
                on history.valid_from <= points.point_date
                and (history.valid_to is null or history.valid_to > points.point_date)
        )
        select later.step, coalesce(earlier.lifecycle_stage, 'not yet known') as source_stage,
            later.lifecycle_stage as target_stage, count(*) as customers
        from stage_at as later
        left join stage_at as earlier
            on earlier.customer_key = later.customer_key and earlier.step = later.step - 1
        where later.step > 0
        group by all
        """
    )
    if links.empty:
        return Chart(
            "journey-flows", title, (relation,), as_of, missing="No customer has a lifecycle history yet."
        )
    order = _stage_order(w)
    links["rank"] = links["target_stage"].map(order).fillna(99)
    links = links.sort_values(["step", "rank", "source_stage"])
    links["source"] = [
        f"{s} · {ends[step - 1]:%b %d}" for s, step in zip(links["source_stage"], links["step"], strict=True)
    ]
    links["target"] = [
        f"{t} · {ends[step]:%b %d}" for t, step in zip(links["target_stage"], links["step"], strict=True)
    ]
    note = "Stage of each known customer at each month end (the last column is the as-of date)."
    return Chart("journey-flows", title, (relation,), as_of, figure=figures.sankey(links), note=note)


def _journey_kpis(w: Warehouse, as_of: str | None) -> list[Chart]:
    relation = "marts.journey_kpis"
    titles = ("Customers per lifecycle stage at month end", "Retention rate per lifecycle stage")
    if not w.has(relation):
        return [
            Chart(f"journey-kpi-{i}", t, (relation,), as_of, missing=_not_built(relation))
            for i, t in enumerate(titles)
        ]
    kpis = w.frame(
        f"""
        select month_start, lifecycle_stage, sum(customers) as customers,
            sum(retained_customers) / nullif(sum(customers_at_start), 0) as retention_rate
        from {relation} group by all order by month_start
        """
    )
    if kpis.empty:
        return [
            Chart(f"journey-kpi-{i}", t, (relation,), as_of, missing="No KPI month yet.")
            for i, t in enumerate(titles)
        ]
    order = _stage_order(w)
    kpis["rank"] = kpis["lifecycle_stage"].map(order).fillna(99)
    kpis = kpis.sort_values(["rank", "lifecycle_stage", "month_start"])
    retention = kpis.dropna(subset=["retention_rate"])
    charts = [
        Chart(
            "journey-kpi-customers",
            titles[0],
            (relation,),
            as_of,
            figure=figures.lines(kpis, "month_start", "customers", "lifecycle_stage", "customers"),
        )
    ]
    if retention.empty:
        charts.append(
            Chart("journey-kpi-retention", titles[1], (relation,), as_of, missing="No retention yet.")
        )
    else:
        charts.append(
            Chart(
                "journey-kpi-retention",
                titles[1],
                (relation,),
                as_of,
                figure=figures.lines(
                    retention,
                    "month_start",
                    "retention_rate",
                    "lifecycle_stage",
                    "retention rate",
                    percent=True,
                ),
                note="Of the customers in the stage at month start, the share in an engaged stage at month end.",
            )
        )
    return charts


# --- activation -----------------------------------------------------------------------------


def activation(w: Warehouse, as_of: str | None) -> Section:
    section = Section(
        "activation",
        "Activation",
        "The treatments this run chose: by channel and rule, who was excluded and why, and whether "
        "the holdout groups have the shares configured.",
    )
    treatments, exclusions = "activation.customer_treatments", "activation.treatment_exclusions"
    no_consents = w.missing_sources("crm.consents")
    if not w.has(treatments):
        section.charts.append(
            Chart(
                "activation-channels",
                "Treatments by channel and rule",
                (treatments,),
                as_of,
                missing=_not_built(treatments),
            )
        )
        return section
    sent = w.frame(
        f"""
        select channel, coalesce(rule_id, selection_method) as rule, count(*) as customers
        from {treatments} where not is_holdout group by all order by channel, rule
        """
    )
    title = "Treatments by channel and rule (held-out customers not counted)"
    if sent.empty:
        missing = (
            _not_provided(no_consents) + " No customer has a channel to send in."
            if no_consents
            else ("No customer was chosen for a treatment in this run.")
        )
        section.charts.append(Chart("activation-channels", title, (treatments,), as_of, missing=missing))
    else:
        figure = figures.stacked_bars(sent, "channel", "rule", "customers", "channel", "customers")
        section.charts.append(Chart("activation-channels", title, (treatments,), as_of, figure=figure))
    if w.has(exclusions):
        reasons = w.frame(
            f"select exclusion_reason, count(*) as customers from {exclusions} group by 1 order by 2 desc, 1"
        )
        title = "Exclusions by reason"
        if reasons.empty:
            section.charts.append(
                Chart(
                    "activation-exclusions", title, (exclusions,), as_of, missing="No customer was excluded."
                )
            )
        else:
            figure = figures.bars(
                reasons, "exclusion_reason", [("customers", "customers")], "reason", "customers", "h"
            )
            section.charts.append(Chart("activation-exclusions", title, (exclusions,), as_of, figure=figure))
    section.charts.append(_holdouts(w, as_of, treatments, no_consents))
    return section


def _holdouts(w: Warehouse, as_of: str | None, treatments: str, no_consents: list[str]) -> Chart:
    catalog = "reference.activation_treatments"
    sources = (treatments, catalog, "var activation_global_holdout_share")
    title = "Holdout shares: observed against configured"
    observed = w.frame(
        f"""
        select 'global control group' as group_name, 0 as group_order,
            avg(case when holdout_type = 'global' then 1.0 else 0.0 end) as observed, count(*) as customers
        from {treatments}
        union all
        select treatment_code, 1,
            avg(case when holdout_type = 'treatment' then 1.0 else 0.0 end), count(*)
        from {treatments} where holdout_type is null or holdout_type <> 'global'
        group by treatment_code
        """
    )
    observed = observed[observed["customers"] > 0]
    if observed.empty:
        missing = "No customer was assigned in this run."
        if no_consents:
            missing = f"{_not_provided(no_consents)} {missing}"
        return Chart("activation-holdouts", title, sources, as_of, missing=missing)
    configured = {"global control group": project_var("activation_global_holdout_share")}
    if w.has(catalog):
        configured |= dict(
            w.connection.execute(f"select treatment_code, control_share from {catalog}").fetchall()
        )
    observed["configured"] = [
        float(configured[name]) if configured.get(name) is not None else np.nan
        for name in observed["group_name"]
    ]
    observed = observed.sort_values(["group_order", "group_name"])
    observed["group_name"] = [
        f"{g} (n={n:,})" for g, n in zip(observed["group_name"], observed["customers"], strict=True)
    ]
    figure = figures.bars(
        observed,
        "group_name",
        [("observed", "observed"), ("configured", "configured")],
        "group",
        "holdout share",
        percent=True,
    )
    note = (
        "Global: share of assigned customers in the global control group. Per treatment: share of its "
        "customers outside the global group held out as its control. Draws are random, so small groups vary."
    )
    return Chart("activation-holdouts", title, sources, as_of, figure=figure, note=note)


# --- measurement ----------------------------------------------------------------------------


METRIC_TITLES = {
    "visit_rate": ("visit rate uplift", True),
    "conversion_rate": ("conversion rate uplift", True),
    "revenue_per_customer": ("revenue per customer uplift", False),
    "margin_per_customer": ("margin per customer uplift", False),
}


def measurement(w: Warehouse, as_of: str | None) -> Section:
    section = Section(
        "measurement",
        "Measurement",
        "What the treatments caused against their randomized control groups, how well the uplift "
        "models rank customers, and what the loyalty club causes.",
    )
    section.charts += [_forest(w, as_of), _qini(w, as_of), *_loyalty(w, as_of)]
    return section


def _forest(w: Warehouse, as_of: str | None) -> Chart:
    relation = "measurement.treatment_effects"
    title = "Effects per treatment and needs segment (95% intervals)"
    if not w.has(relation):
        return Chart("measurement-effects", title, (relation,), as_of, missing=_not_built(relation))
    metric = w.scalar(f"select max(primary_metric) from {relation}") or "conversion_rate"
    metric_title, percent = METRIC_TITLES.get(str(metric), (f"{metric} uplift", False))
    effects = w.frame(
        f"""
        select campaign_id, treatment_code, dimension, dimension_label, dimension_order,
            {metric}_uplift as effect, {metric}_uplift_lower as lower, {metric}_uplift_upper as upper,
            coalesce({metric}_is_significant, false) as significant, alpha
        from {relation}
        where has_enough_data and dimension in ('overall', 'needs_segment') and {metric}_uplift_lower is not null
        order by treatment_code, campaign_id, dimension_order
        """
    )
    if effects.empty:
        count = w.scalar(f"select count(*) from {relation}")
        missing = (
            "No treatment has a complete response window yet."
            if not count
            else "No treatment or segment has enough assignments in both arms yet (var measurement_min_group_size)."
        )
        return Chart("measurement-effects", title, (relation,), as_of, missing=missing)
    several = effects.groupby("treatment_code")["campaign_id"].nunique()
    effects["label"] = [
        (f"{campaign} / " if several[code] > 1 else "") + f"{code} · {label}"
        for campaign, code, label in zip(
            effects["campaign_id"], effects["treatment_code"], effects["dimension_label"], strict=True
        )
    ]
    level = 1 - float(effects["alpha"].iloc[0]) if pd.notna(effects["alpha"].iloc[0]) else 0.95
    figure = figures.forest(effects, f"{metric_title} (treated - control)", percent)
    note = f"Intent to treat, {level:.0%} intervals; red: significant at the configured alpha. Metric: {metric} (var measurement_primary_metric)."
    return Chart(
        "measurement-effects",
        title.replace("95%", f"{level:.0%}"),
        (relation,),
        as_of,
        figure=figure,
        note=note,
    )


def _qini(w: Warehouse, as_of: str | None) -> Chart:
    sources = ("measurement.uplift_model_evaluation", "intermediate.int_measurement__uplift_features")
    title = "Qini curves of the uplift models (held-out assignments)"
    result = qini_curves(w)
    if result is None:
        return Chart("measurement-qini", title, sources, as_of, missing=_not_built(sources[0]))
    if result.fitted == 0:
        return Chart(
            "measurement-qini",
            title,
            sources,
            as_of,
            missing="No uplift model fitted: no treatment has var uplift_min_group_size training assignments per arm.",
        )
    if not result.curves:
        return Chart(
            "measurement-qini",
            title,
            sources,
            as_of,
            missing="The models' held-out curves could not be redrawn to match their stored Qini coefficients.",
        )
    note = "Above the dotted line of its colour (random targeting), a model finds persuadable customers."
    if result.not_reproduced:
        note += f" Not redrawn (stored coefficient not reproduced): {', '.join(result.not_reproduced)}."
    return Chart("measurement-qini", title, sources, as_of, figure=figures.qini(result.curves), note=note)


def _loyalty(w: Warehouse, as_of: str | None) -> list[Chart]:
    relation = "measurement.loyalty_program_effect"
    titles = (
        "Loyalty club: orders caused per member, by estimate",
        "Loyalty club: difference in differences",
    )
    keys = ("measurement-loyalty-estimates", "measurement-loyalty-did")
    missing_sources = w.missing_sources("crm.loyalty_members")
    if missing_sources:
        return [
            Chart(k, t, (relation,), as_of, missing=_not_provided(missing_sources))
            for k, t in zip(keys, titles, strict=True)
        ]
    if not w.has(relation):
        return [
            Chart(k, t, (relation,), as_of, missing=_not_built(relation))
            for k, t in zip(keys, titles, strict=True)
        ]
    estimates = w.frame(
        f"""
        select estimate as label, is_headline, method_description, members_measured,
            incremental_orders_per_member as effect, incremental_orders_per_member_lower as lower,
            incremental_orders_per_member_upper as upper, coalesce(is_significant, false) as significant,
            member_pre_orders, member_post_orders, control_pre_orders, control_post_orders, pre_days, post_days
        from {relation} order by is_headline, estimate
        """
    )
    usable = estimates.dropna(subset=["effect", "lower", "upper"])
    if usable.empty:
        reason = "No loyalty member with a full post-period and comparable non-members yet."
        return [Chart(k, t, (relation,), as_of, missing=reason) for k, t in zip(keys, titles, strict=True)]
    charts = [
        Chart(
            keys[0],
            titles[0],
            (relation,),
            as_of,
            figure=figures.forest(usable, "incremental orders per member in the post-period", False),
            note="naive credits the club with what members would have bought anyway; the matched estimates do not.",
        )
    ]
    headline = estimates[estimates["is_headline"]].dropna(subset=["member_pre_orders", "control_pre_orders"])
    if headline.empty:
        charts.append(
            Chart(
                keys[1],
                titles[1],
                (relation,),
                as_of,
                missing="The headline estimate has no members measured.",
            )
        )
    else:
        row = headline.iloc[0]
        periods = (
            f"{_number(row['pre_days'])} days before joining",
            f"{_number(row['post_days'])} days after",
        )
        figure = figures.difference_in_differences(
            periods,
            [
                ("members", row["member_pre_orders"], row["member_post_orders"]),
                ("matched non-members", row["control_pre_orders"], row["control_post_orders"]),
            ],
        )
        method = str(row["method_description"]).rstrip(".")
        note = f"{row['label']}: {method}. Pre-period orders are scaled to the post-period's length."
        charts.append(Chart(keys[1], titles[1], (relation,), as_of, figure=figure, note=note))
    return charts


# --- data quality ---------------------------------------------------------------------------


def data_quality(w: Warehouse, as_of: str | None) -> Section:
    section = Section(
        "data-quality",
        "Data quality",
        "Every raw row staging refused is kept with its reason: raw rows = staged + quarantined.",
    )
    relation = "audit.audit__quarantine"
    title = "Quarantined rows by raw table and reason"
    if not w.has(relation):
        section.charts.append(
            Chart("quality-quarantine", title, (relation,), as_of, missing=_not_built(relation))
        )
        return section
    quarantine = w.frame(
        f"""
        select source_name || '.' || table_name as raw_table, quarantine_reason, count(*) as rows_quarantined
        from {relation} group by all order by raw_table, rows_quarantined desc
        """
    )
    if quarantine.empty:
        section.charts.append(
            Chart("quality-quarantine", title, (relation,), as_of, missing="No raw row was quarantined.")
        )
    else:
        figure = figures.stacked_bars(
            quarantine, "raw_table", "quarantine_reason", "rows_quarantined", "raw table", "rows"
        )
        section.charts.append(Chart("quality-quarantine", title, (relation,), as_of, figure=figure))
    if w.has("audit.audit__row_reconciliation"):
        rows = w.connection.execute(
            """
            select raw_table, raw_rows, staged_rows, quarantined_rows,
                case when is_balanced then 'yes' else 'NO' end
            from audit.audit__row_reconciliation order by raw_table
            """
        ).fetchall()
        section.tables.append(
            {
                "title": "Raw rows = staged + quarantined",
                "caption": f"Source: audit.audit__row_reconciliation · as of {as_of}",
                "headers": ["raw table", "raw", "staged", "quarantined", "balanced"],
                "rows": [[r[0], _number(r[1]), _number(r[2]), _number(r[3]), r[4]] for r in rows],
            }
        )
    return section
