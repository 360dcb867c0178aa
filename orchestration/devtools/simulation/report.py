"""The printed end of a simulation: per treatment, planted against measured, with intervals."""

from __future__ import annotations

import math

import pandas as pd

from orchestration.devtools.simulation.comparison import Z
from orchestration.devtools.simulation.config import SimulationConfig


def _interval(center: float, lower: float, upper: float, scale: float, digits: int) -> str:
    if center is None or (isinstance(center, float) and math.isnan(center)):
        return "n/a"
    return f"{center * scale:+.{digits}f} [{lower * scale:+.{digits}f}, {upper * scale:+.{digits}f}]"


def _covers(planted: float, lower: float, upper: float) -> str:
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (planted, lower, upper)):
        return " "
    return "yes" if lower <= planted <= upper else "NO"


def _coverage(table: pd.DataFrame) -> list[str]:
    """How many treatments' planted effects lie inside each interval (where one was computed)."""
    out = []
    for metric in ("conversion", "revenue"):
        planted = table[f"planted_{metric}"]
        center, se = table[f"own_{metric}_uplift"], table[f"own_{metric}_se_clustered"]
        own = (planted - center).abs() <= Z * se
        parts = [f"own clustered {int(own[se.notna()].sum())} of {int(se.notna().sum())}"]
        if f"measured_{metric}_lower" in table.columns:
            lower, upper = table[f"measured_{metric}_lower"], table[f"measured_{metric}_upper"]
            known = lower.notna() & upper.notna()
            inside = (planted >= lower) & (planted <= upper)
            parts.insert(0, f"measured {int(inside[known].sum())} of {int(known.sum())}")
        out.append(f"planted {metric} effect inside the 95% interval: " + ", ".join(parts))
    return out


def _design_effects(table: pd.DataFrame) -> list[str]:
    """Per treatment: customers behind the assignments, design effects, naive vs clustered tests."""
    if "measured_conversion_design_effect" not in table.columns:
        return []

    def flag(value: object) -> str:
        return (
            "n/a"
            if value is None or (isinstance(value, float) and math.isnan(value))
            else "sig"
            if value
            else "-"
        )

    lines = [
        "",
        "Repeated assignment: design effect = variance of the uplift clustered by customer / as if every",
        "assignment were independent (treatment_effects; own = the recomputation's CR0 / Welch);",
        "significant at alpha: naive (independent assignments) / clustered (treatment_effects).",
        f"{'treatment':16s} {'zero':>4s} {'cust t/c':>11s} {'deff conv':>9s} {'deff rev':>8s} {'own conv':>8s} "
        f"{'own rev':>7s} | {'conv naive/clustered':>20s} {'rev naive/clustered':>20s}",
    ]
    for row in table.itertuples():
        deff = [
            getattr(row, name, float("nan"))
            for name in (
                "measured_conversion_design_effect",
                "measured_revenue_design_effect",
                "own_conversion_design_effect",
                "own_revenue_design_effect",
            )
        ]
        deff = [float("nan") if v is None else float(v) for v in deff]
        customers = f"{getattr(row, 'measured_customers_treated', float('nan')):.0f}/" + (
            f"{getattr(row, 'measured_customers_control', float('nan')):.0f}"
        )
        conv = (
            f"{flag(getattr(row, 'measured_conversion_significant_naive', None))}/"
            f"{flag(getattr(row, 'measured_conversion_significant', None))}"
        )
        rev = (
            f"{flag(getattr(row, 'measured_revenue_significant_naive', None))}/"
            f"{flag(getattr(row, 'measured_revenue_significant', None))}"
        )
        lines.append(
            f"{row.treatment_code:16s} {'yes' if row.is_zero_effect else '':>4s} {customers:>11s} "
            f"{deff[0]:>9.2f} {deff[1]:>8.2f} {deff[2]:>8.2f} {deff[3]:>7.2f} | {conv:>20s} {rev:>20s}"
        )
    return lines


def _zero_effect(summary: dict | None) -> list[str]:
    """The false-positive check: zero-effect treatments significant at alpha, naive and clustered."""
    if not summary:
        return []
    alpha = summary["alpha"]
    lines = [
        "",
        f"Zero-effect treatments ({', '.join(summary['treatments']) or 'none'}) significant at "
        f"{alpha:.0%} (expected: about {alpha:.0%} of the tests):",
    ]
    for scope, label in (("overall", "overall"), ("all_cells", "all cells (overall, segment, tier, stage)")):
        parts = []
        for metric, counts in summary[scope].items():
            parts.append(
                f"{metric} {counts['significant_naive']} of {counts['tests']} naive, "
                f"{counts['significant_clustered']} of {counts['tests']} clustered"
            )
        lines.append(f"  {label}: " + "; ".join(parts))
    return lines


def format_report(table: pd.DataFrame, config: SimulationConfig, zero_effect: dict | None = None) -> str:
    """Conversion uplift in points, revenue uplift per customer; 95% intervals."""
    runs = config.run_dates
    lines = [
        f"Closed-loop simulation: {config.customers} customers, seed {config.seed}, {len(runs)} runs "
        f"({runs[0]} .. {runs[-1]}, every {config.step} day(s)), measured as of {config.final_as_of}",
        "Per treatment, over the own assignments with a complete 30-day window (n treated / control).",
        "planted = mean planted effect on the treated assignments' windows; measured = "
        "measurement.treatment_effects",
        "(conversion: Agresti-Caffo 95% interval; revenue: Welch); own = the same difference recomputed "
        "with a 95% interval clustered by customer.",
        "",
    ]
    header = (
        f"{'treatment':16s} {'model':13s} {'n t/c':>11s} {'cust t/c':>9s} | "
        f"{'conv planted':>12s} {'measured [95% CI]':>26s} in  {'own clustered [95% CI]':>26s} | "
        f"{'rev planted':>11s} {'measured [95% CI]':>26s} in  {'own clustered [95% CI]':>26s}"
    )
    lines += [header, "-" * len(header)]
    for row in table.itertuples():
        measured = getattr(row, "measured_conversion", float("nan"))
        conv = _interval(
            measured,
            getattr(row, "measured_conversion_lower", float("nan")),
            getattr(row, "measured_conversion_upper", float("nan")),
            100,
            1,
        )
        rev = _interval(
            getattr(row, "measured_revenue", float("nan")),
            getattr(row, "measured_revenue_lower", float("nan")),
            getattr(row, "measured_revenue_upper", float("nan")),
            1,
            2,
        )
        c_se, r_se = row.own_conversion_se_clustered, row.own_revenue_se_clustered
        own_conv = _interval(
            row.own_conversion_uplift,
            row.own_conversion_uplift - Z * c_se,
            row.own_conversion_uplift + Z * c_se,
            100,
            1,
        )
        own_rev = _interval(
            row.own_revenue_uplift, row.own_revenue_uplift - Z * r_se, row.own_revenue_uplift + Z * r_se, 1, 2
        )
        lines.append(
            f"{row.treatment_code:16s} {row.effect_model:13s} {row.n_treated:>5d}/{row.n_control:<5d} "
            f"{row.customers_treated:>4d}/{row.customers_control:<4d} | "
            f"{row.planted_conversion * 100:>+11.2f}p {conv:>26s} "
            f"{_covers(row.planted_conversion, getattr(row, 'measured_conversion_lower', None), getattr(row, 'measured_conversion_upper', None)):3s} "
            f"{own_conv:>26s} | "
            f"{row.planted_revenue:>+11.2f} {rev:>26s} "
            f"{_covers(row.planted_revenue, getattr(row, 'measured_revenue_lower', None), getattr(row, 'measured_revenue_upper', None)):3s} "
            f"{own_rev:>26s}"
        )
    lines += ["", *_coverage(table), *_design_effects(table), *_zero_effect(zero_effect)]
    if "measured_conversion" not in table.columns:
        lines.append("(measurement.treatment_effects was not built: only the own recomputation is shown)")
    return "\n".join(lines) + "\n"
