"""Planted vs measured: what the simulated responses were, against what the warehouse measured.

Measured, per treatment: the project's own holdout comparison, measurement.treatment_effects
(campaign CIW-<treatment>, dimension overall; Agresti-Caffo interval for conversion, Welch for
revenue). Beside it the same difference in means recomputed here from the assignment history
and the orders, with a customer-clustered interval: the loop assigns the same customers run
after run, so the assignments of one customer are correlated, which intervals that treat them
as independent ignore.

Planted, per treatment: the mean over its treated assignments (complete windows) of the effect
the simulation planted on that assignment's outcome window W = [assigned_at, + 30 days), the
generator's definition carried over to repeated sends (effects.py): exact given the simulation's
own counterfactual (the orders without this treatment's responses), analytic over the
incremental draws.
- conversion: (1 - C0) * (1 - prod_j (1 - q_j * P_j(W))), C0 = the assignment converts without
  the treatment's incremental orders; j runs over the treatment's response windows opened for
  the customer, P_j(W) = the chance its incremental purchase (truncated-exponential delay) falls
  in W;
- revenue: sum over W's other orders of value * (1 - 1 / F) (F = the spend factors this
  treatment applied to the order) + sum_j q_j * P_j(W) * (1 + m_j) * E[order value].
`realized_*` is the same with the drawn incremental orders instead of their expectation.
Zero-effect treatments (the planted purchase probability and spend change are 0 in every cell,
e.g. the newsletter) are the false-positive check: `zero_effect_significance` counts how many of
their comparisons treatment_effects calls significant at its alpha, clustered by customer as it
is now, and as the independent-assignment tests it ran before would have (conversion: the pooled
two-proportion z-test on the assignment counts; revenue: Welch's t times sqrt(design effect),
read with the normal distribution), overall and over every cell (segment, tier, stage).
Randomized holdouts make treated minus control estimate the mean effect on the treated, so the
planted figure is what a correct measurement should find, up to its own sampling error. Not in
the planted figure: second-order effects of a response on later activation choices (a customer
who bought may get another treatment next run), which the holdout comparison does include.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import norm

from orchestration.devtools.sample_data.arrays import SECONDS_PER_DAY
from orchestration.devtools.sample_data.config import TREATMENT_CODES
from orchestration.devtools.sample_data.effects import effect_matrices
from orchestration.devtools.simulation.config import (
    EFFECT_MODEL,
    SimulationConfig,
    effect_index,
    effect_model,
)

Z = float(norm.ppf(0.975))  # two-sided 95 %


@dataclass(frozen=True)
class Comparison:
    table: pd.DataFrame  # one row per treatment
    assignments: pd.DataFrame  # one row per own assignment with a complete window
    zero_effect: dict  # zero_effect_significance: false positives, naive and clustered


def planted_truth() -> dict:
    """The planted response model of every activation code (written to planted_effects.json)."""
    q, m = effect_matrices()
    out = {}
    for code in sorted({*EFFECT_MODEL}):
        model = effect_model(code)
        k = TREATMENT_CODES.index(model)
        out[code] = {
            "effect_model": model,
            "purchase_probability": np.round(q[k], 6).tolist(),
            "spend_change": np.round(m[k], 6).tolist(),
            "rows": "needs segments 1..5",
            "columns": ["low", "medium", "high"],
        }
    return out


def assignment_outcomes(con: duckdb.DuckDBPyConnection, config: SimulationConfig) -> pd.DataFrame:
    """Own assignments of the simulated runs with a complete window, and their window's orders."""
    runs = [d.isoformat() for d in config.run_dates]
    return con.execute(
        f"""
        with assignments as (
            select assignment_id, customer_key, treatment_code, assignment_group = 'treatment' as is_treated,
                assigned_at, assigned_at + interval {int(config.window_days)} day as window_end, run_date
            from activation.treatment_assignment_history
            where cast(run_date as date) in ({", ".join("?" for _ in runs)})
                and customer_key is not null
                and assigned_at + interval {int(config.window_days)} day <= ?
        )
        select a.assignment_id, a.customer_key, a.treatment_code, a.is_treated, a.assigned_at, a.window_end,
            a.run_date, o.order_id, o.ordered_at, cast(o.net_amount as double) as net_amount
        from assignments a
        left join intermediate.int_customer__orders o
            on o.customer_key = a.customer_key and not o.is_cancelled
            and o.ordered_at >= a.assigned_at and o.ordered_at < a.window_end
        order by a.assignment_id, o.order_id
        """,
        [*runs, pd.Timestamp(config.final_as_of) + pd.Timedelta(days=1)],
    ).df()


def _window_share(start, until, w_start, w_end, scale: float) -> np.ndarray:
    """P(a truncated-exponential delay on [0, until - start) lands in [w_start, w_end))."""
    span = np.maximum(until - start, 1).astype(float)
    lo = np.clip(w_start - start, 0, span).astype(float)
    hi = np.clip(w_end - start, 0, span).astype(float)
    norm = -np.expm1(-span / scale)
    share = (np.exp(-lo / scale) - np.exp(-hi / scale)) / norm
    return np.where(hi > lo, share, 0.0)


def _seconds(values: pd.Series) -> np.ndarray:
    return (pd.to_datetime(values).astype("datetime64[s]").astype("int64")).to_numpy()


def planted_per_assignment(
    rows: pd.DataFrame, sends: pd.DataFrame, spend: pd.DataFrame, config: SimulationConfig
) -> pd.DataFrame:
    """Per assignment (one row each): outcome, and for treated ones the planted effect on it."""
    rows = rows.copy()
    caused = sends.dropna(subset=["order_id"])[["order_id", "treatment_code"]]
    rows = rows.merge(caused.rename(columns={"treatment_code": "caused_by"}), on="order_id", how="left")
    factors = spend.groupby(["order_id", "treatment_code"]).factor.prod().rename("factor").reset_index()
    rows = rows.merge(factors, on=["order_id", "treatment_code"], how="left")
    rows["factor"] = rows.factor.fillna(1.0)
    has_order = rows.order_id.notna()
    own = has_order & (rows.caused_by == rows.treatment_code)
    other = has_order & ~own
    value = rows.net_amount.fillna(0.0)
    rows["own_value"] = np.where(own, value, 0.0)
    rows["spend_effect"] = np.where(other, value * (1.0 - 1.0 / rows.factor), 0.0)
    rows["other_order"] = other
    rows["has_order"] = has_order
    per = rows.groupby("assignment_id", sort=True).agg(
        customer_key=("customer_key", "first"),
        treatment_code=("treatment_code", "first"),
        is_treated=("is_treated", "first"),
        assigned_at=("assigned_at", "first"),
        window_end=("window_end", "first"),
        converted=("has_order", "any"),
        revenue=("net_amount", "sum"),
        converted_without=("other_order", "any"),
        own_revenue=("own_value", "sum"),
        spend_effect=("spend_effect", "sum"),
    )

    # The treatment's response windows opened for the customer, against each treated assignment.
    windows = sends[sends.is_effective][
        [
            "customer_key",
            "treatment_code",
            "sent_at",
            "effect_until",
            "purchase_probability",
            "spend_change",
            "mean_order",
        ]
    ]
    treated = per[per.is_treated].reset_index()[
        ["assignment_id", "customer_key", "treatment_code", "assigned_at", "window_end"]
    ]
    pairs = treated.merge(windows, on=["customer_key", "treatment_code"])
    share = _window_share(
        pairs.sent_at.to_numpy(),
        pairs.effect_until.to_numpy(),
        _seconds(pairs.assigned_at),
        _seconds(pairs.window_end),
        config.delay_days * SECONDS_PER_DAY,
    )
    pairs["p_buy"] = pairs.purchase_probability.to_numpy() * share
    pairs["log_none"] = np.log1p(-np.minimum(pairs.p_buy, 1 - 1e-12))
    pairs["exp_value"] = pairs.p_buy * (1.0 + pairs.spend_change) * pairs.mean_order.fillna(0.0)
    by = pairs.groupby("assignment_id").agg(log_none=("log_none", "sum"), exp_value=("exp_value", "sum"))
    per = per.join(by)
    per[["log_none", "exp_value"]] = per[["log_none", "exp_value"]].fillna(0.0)
    base_converted = per.converted_without.astype(float)
    per["planted_conversion"] = np.where(
        per.is_treated, (1.0 - base_converted) * -np.expm1(per.log_none), np.nan
    )
    per["planted_revenue"] = np.where(per.is_treated, per.spend_effect + per.exp_value, np.nan)
    per["realized_conversion"] = np.where(
        per.is_treated, per.converted.astype(float) - base_converted, np.nan
    )
    per["realized_revenue"] = np.where(per.is_treated, per.spend_effect + per.own_revenue, np.nan)
    return per.drop(columns=["log_none", "exp_value", "converted_without"]).reset_index()


def _difference(frame: pd.DataFrame, column: str) -> dict[str, float]:
    """Treated minus control mean, with a Welch and a customer-clustered (CR0) standard error."""
    out = {}
    arms = {}
    for name, arm in (("t", frame[frame.is_treated]), ("c", frame[~frame.is_treated])):
        y = arm[column].astype(float)
        n = len(y)
        mean = y.mean() if n else np.nan
        welch = y.var(ddof=1) / n if n > 1 else np.nan
        clustered = ((y - mean).groupby(arm.customer_key).sum() ** 2).sum() / n**2 if n > 1 else np.nan
        arms[name] = (mean, welch, clustered)
    out["uplift"] = arms["t"][0] - arms["c"][0]
    out["se"] = float(np.sqrt(arms["t"][1] + arms["c"][1]))
    out["se_clustered"] = float(np.sqrt(arms["t"][2] + arms["c"][2]))
    return out


def zero_effect_codes(codes: list[str]) -> list[str]:
    """Activation codes whose planted effect model is zero in every cell (purchase and spend)."""
    q, m = effect_matrices()
    return [code for code in codes if not q[effect_index(code)].any() and not m[effect_index(code)].any()]


def project_effects(con: duckdb.DuckDBPyConnection, overall: bool = True) -> pd.DataFrame | None:
    """measurement.treatment_effects rows of the own campaigns (overall, or every cell); None when
    not built."""
    try:
        return con.execute(
            f"""
            select treatment_code, dimension, dimension_value, has_enough_data, n_treated, n_control,
                n_customers_treated, n_customers_control,
                conversion_rate_treated, conversion_rate_control,
                conversion_rate_uplift, conversion_rate_uplift_lower, conversion_rate_uplift_upper,
                conversion_rate_is_significant, conversion_rate_design_effect,
                revenue_per_customer_uplift, revenue_per_customer_uplift_lower, revenue_per_customer_uplift_upper,
                revenue_per_customer_test_statistic, revenue_per_customer_is_significant,
                revenue_per_customer_design_effect, alpha
            from measurement.treatment_effects
            where campaign_id = 'CIW-' || treatment_code {"and dimension = 'overall'" if overall else ""}
            """
        ).df()
    except duckdb.Error:
        return None


def naive_significance(effects: pd.DataFrame) -> pd.DataFrame:
    """Per row of treatment_effects, whether the independent-assignment tests the model ran before
    it clustered by customer call the conversion and revenue uplift significant at its alpha. The
    revenue test is rebuilt from the model's t and design effect, so it keeps the model's rule for an
    arm without variance (it takes the other arm's): naive differs from clustered by clustering only."""
    n_t, n_c = effects.n_treated.astype(float), effects.n_control.astype(float)
    p_t, p_c = effects.conversion_rate_treated, effects.conversion_rate_control
    pooled = (p_t * n_t + p_c * n_c) / (n_t + n_c)
    se_null = np.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    z_conversion = (p_t - p_c) / se_null.where(se_null > 0)
    # design effect = clustered / independent variance of the uplift, so t_naive = t * sqrt(deff).
    z_revenue = effects.revenue_per_customer_test_statistic * np.sqrt(
        effects.revenue_per_customer_design_effect
    )
    alpha = effects.alpha.astype(float)
    return pd.DataFrame(
        {
            "conversion": 2 * norm.sf(np.abs(z_conversion)) < alpha,
            "revenue": 2 * norm.sf(np.abs(z_revenue)) < alpha,
        },
        index=effects.index,
    ).where(effects.has_enough_data.astype(bool), False)


def zero_effect_significance(effects: pd.DataFrame | None, codes: list[str]) -> dict:
    """How many comparisons of zero-effect treatments are significant, naive and clustered: overall
    (one per treatment and metric) and over every cell with enough data."""
    if effects is None:
        return {}
    rows = effects[effects.treatment_code.isin(codes) & effects.has_enough_data.astype(bool)]
    naive = naive_significance(rows)
    clustered = pd.DataFrame(
        {
            "conversion": rows.conversion_rate_is_significant.astype(bool),
            "revenue": rows.revenue_per_customer_is_significant.astype(bool),
        }
    )
    alpha = float(effects.alpha.iloc[0]) if len(effects) else None
    out: dict = {"treatments": codes, "alpha": alpha}
    for scope, mask in (("overall", rows.dimension == "overall"), ("all_cells", rows.dimension.notna())):
        out[scope] = {
            metric: {
                "tests": int(mask.sum()),
                "significant_naive": int(naive.loc[mask, metric].sum()),
                "significant_clustered": int(clustered.loc[mask, metric].sum()),
            }
            for metric in ("conversion", "revenue")
        }
    return out


def compare(con: duckdb.DuckDBPyConnection, config: SimulationConfig) -> Comparison:
    sends = pd.read_parquet(config.ledger_path / "sends.parquet")
    spend = pd.read_parquet(config.ledger_path / "spend_changes.parquet")
    per = planted_per_assignment(assignment_outcomes(con, config), sends, spend, config)
    project = project_effects(con)
    cells = project_effects(con, overall=False)
    if project is not None:
        project = project.assign(**naive_significance(project).add_prefix("naive_"))
    zero_codes = zero_effect_codes(sorted(per.treatment_code.unique()))
    rows = []
    for code, group in per.groupby("treatment_code", sort=True):
        treated = group[group.is_treated]
        delivered = sends[(sends.treatment_code == code) & sends.is_reachable]
        row = {
            "treatment_code": code,
            "effect_model": effect_model(code),
            "is_zero_effect": code in zero_codes,
            "n_treated": len(treated),
            "n_control": int((~group.is_treated).sum()),
            "customers_treated": treated.customer_key.nunique(),
            "customers_control": group[~group.is_treated].customer_key.nunique(),
            "sends": len(delivered),
            "effective_sends": int(delivered.is_effective.sum()),
            "mean_q_of_effective_sends": float(delivered[delivered.is_effective].purchase_probability.mean())
            if delivered.is_effective.any()
            else 0.0,
            "planted_conversion": treated.planted_conversion.mean(),
            "realized_conversion": treated.realized_conversion.mean(),
            "planted_revenue": treated.planted_revenue.mean(),
            "realized_revenue": treated.realized_revenue.mean(),
        }
        for metric, column in (("conversion", "converted"), ("revenue", "revenue")):
            diff = _difference(group, column)
            row[f"own_{metric}_uplift"] = diff["uplift"]
            row[f"own_{metric}_se"] = diff["se"]
            row[f"own_{metric}_se_clustered"] = diff["se_clustered"]
            row[f"own_{metric}_design_effect"] = (
                (diff["se_clustered"] / diff["se"]) ** 2 if diff["se"] else None
            )
        match = None if project is None else project[project.treatment_code == code]
        if match is not None and len(match):
            p = match.iloc[0]
            row.update(
                {
                    "measured_n_treated": int(p.n_treated),
                    "measured_n_control": int(p.n_control),
                    "measured_conversion": p.conversion_rate_uplift,
                    "measured_conversion_lower": p.conversion_rate_uplift_lower,
                    "measured_conversion_upper": p.conversion_rate_uplift_upper,
                    "measured_revenue": p.revenue_per_customer_uplift,
                    "measured_revenue_lower": p.revenue_per_customer_uplift_lower,
                    "measured_revenue_upper": p.revenue_per_customer_uplift_upper,
                    "measured_conversion_significant": bool(p.conversion_rate_is_significant)
                    if p.has_enough_data
                    else None,
                    # None where the cell has too few assignments for statistics.
                    "measured_revenue_significant": bool(p.revenue_per_customer_is_significant)
                    if p.has_enough_data
                    else None,
                    "measured_conversion_significant_naive": bool(p.naive_conversion)
                    if p.has_enough_data
                    else None,
                    "measured_revenue_significant_naive": bool(p.naive_revenue)
                    if p.has_enough_data
                    else None,
                    "measured_customers_treated": int(p.n_customers_treated),
                    "measured_customers_control": int(p.n_customers_control),
                    "measured_conversion_design_effect": p.conversion_rate_design_effect,
                    "measured_revenue_design_effect": p.revenue_per_customer_design_effect,
                }
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    return Comparison(table=table, assignments=per, zero_effect=zero_effect_significance(cells, zero_codes))


def write_report(comparison: Comparison, config: SimulationConfig, text: str) -> Path:
    directory = config.ledger_path
    comparison.table.to_csv(directory / "report.csv", index=False)
    comparison.assignments.to_parquet(directory / "assignment_effects.parquet", index=False)
    records = json.loads(comparison.table.to_json(orient="records"))
    (directory / "report.json").write_text(json.dumps(records, indent=2) + "\n")
    (directory / "planted_effects.json").write_text(json.dumps(planted_truth(), indent=2) + "\n")
    (directory / "zero_effect.json").write_text(json.dumps(comparison.zero_effect, indent=2) + "\n")
    (directory / "report.txt").write_text(text)
    return directory / "report.txt"
