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


def format_report(table: pd.DataFrame, config: SimulationConfig) -> str:
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
    lines += ["", *_coverage(table)]
    if "measured_conversion" not in table.columns:
        lines.append("(measurement.treatment_effects was not built: only the own recomputation is shown)")
    return "\n".join(lines) + "\n"
