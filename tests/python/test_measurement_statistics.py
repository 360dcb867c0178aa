"""The statistics the measurement marts compute in SQL, recomputed with scipy from the rows below.

treatment_effects and loyalty_program_effect compute their tests in SQL, so that they run on
every engine (macros/measurement/statistics.sql uses only sqrt, exp, ln and abs). Here each
figure is recomputed with scipy.stats from the underlying rows (treatment_outcomes, and
int_measurement__loyalty_units) of the shared `full_build` warehouse and compared:
- exactly (relative 1e-9): arm means, uplifts, test statistics, Welch degrees of freedom,
  standard errors, and everything built from them with the normal quantiles of alpha and power
  (the SQL computes those at compile time with Acklam's approximation, relative error
  < 1.15e-9, hence 2e-9 where a quantile enters);
- to the documented accuracy of the two approximations the SQL uses instead of distribution
  functions: two-sided p-values from erfc by Abramowitz-Stegun 7.1.26 (absolute error < 1.5e-7),
  and for Welch's test the t distribution through Wallace's normal approximation (p-values within
  2.5e-5, critical values within 6e-5 relative, from 30 degrees of freedom on; every checked
  cell has more).
What scipy checks, per metric:
- rates: the pooled two-proportion z-test as the chi-square test of the 2x2 table without
  continuity correction (chi2_contingency: z^2 and the same p-value); the relative uplift and its
  interval as scipy's relative risk with its (Katz, log-scale) interval, which is the SQL's
  delta-method interval for a proportion; the Agresti-Caffo interval with norm.ppf;
- means: Welch's test, degrees of freedom and interval from ttest_ind(equal_var=False);
- loyalty: the stratified difference in differences from the units, norm.ppf and norm.sf.
Repeated assignment: treatment_effects clusters a customer's assignments. Its variance of each
arm's mean is the CR1 sandwich of that mean clustered by customer (computed here in numpy, as
the regression sandwich (X'X)^-1 (sum_g X_g' e_g e_g' X_g) (X'X)^-1 with Stata's factor
G/(G-1) (N-1)/(N-K)), at least the independent one; the design effect is their ratio (an arm of
repeated customers without variance takes the other arm's) and every test runs on the effective
sizes n / deff (Rao-Scott). Where every customer of a cell is assigned
once, the design effect must be exactly 1 and the scipy checks above hold unchanged; a cell with
repeated customers is checked against the numpy sandwich (`clustered_reference`; the closed-loop
simulation's warehouse, tests/python/test_simulation.py, has many).
A degenerate arm: for a mean, an arm without variance (nobody in it bought) while the other has
some is not taken as known without error; it takes the other arm's per-assignment variance, as
under no effect, and the degrees of freedom are the other arm's customers - 1 (Satterthwaite over
that one variance estimate). scipy's Welch test has no such rule, so the reference applies it
itself (`null_variances`): the same rule in both, the t distribution from scipy.
Run with -s to see how far each figure is from scipy's.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

pytestmark = pytest.mark.slow

EXACT = 1e-9
# Clustered figures come from sums of squares whose terms the SQL rounds to 9 decimals so that
# the sums do not depend on row order (exact_sum, macros/sql/exact_aggregates.sql); a variance
# taken as a difference of such sums amplifies that rounding (seen: 5e-9 relative).
ROUNDED_SUMS = 1e-7
QUANTILE = 2e-9  # Acklam's normal quantile, computed in Jinja
ERFC_ABS = 1.5e-7  # Abramowitz-Stegun 7.1.26
WALLACE_P_ABS = 2.5e-5 + ERFC_ABS  # Wallace's t-to-z, from 30 degrees of freedom
WALLACE_QUANTILE = 6e-5
MIN_DF = 30
PROPORTIONS = {"visit_rate": "visits", "conversion_rate": "conversions"}
MEANS = {"revenue_per_customer": "revenue", "margin_per_customer": "margin"}
DIMENSIONS = {
    "needs_segment": "needs_segment",
    "value_tier": "value_tier",
    "lifecycle_stage": "lifecycle_stage",
}
MEASURES = ("orders", "revenue", "margin")


def project_vars() -> dict:
    root = Path(__file__).resolve().parents[2]
    return yaml.safe_load((root / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def close(actual: float, expected: float, rel: float = EXACT) -> bool:
    return bool(np.isclose(actual, expected, rtol=rel, atol=1e-12))


class Gaps:
    """The largest difference from scipy per figure, for the printout."""

    def __init__(self) -> None:
        self.largest: dict[str, float] = {}

    def check(self, name: str, actual: float, expected: float, ok: bool) -> None:
        gap = abs(actual - expected) / max(abs(expected), 1e-300)
        self.largest[name] = max(self.largest.get(name, 0.0), gap if np.isfinite(gap) else np.inf)
        assert ok, f"{name}: SQL {actual!r}, scipy {expected!r}"

    def exact(self, name: str, actual: float, expected: float, rel: float = EXACT) -> None:
        self.check(name, actual, expected, close(actual, expected, rel))

    def absolute(self, name: str, actual: float, expected: float, tolerance: float) -> None:
        self.largest[f"{name} (absolute)"] = max(
            self.largest.get(f"{name} (absolute)", 0.0), abs(actual - expected)
        )
        assert abs(actual - expected) <= tolerance, f"{name}: SQL {actual!r}, scipy {expected!r}"

    def interval(
        self, name: str, lower: float, upper: float, center: float, se: float, critical: float, rel: float
    ) -> None:
        """center +- critical x se: the midpoint exactly, the half-width in standard errors to `rel`."""
        self.absolute(f"{name}: midpoint / se", ((lower + upper) / 2 - center) / se, 0.0, EXACT)
        self.exact(f"{name}: half-width / se", (upper - lower) / (2 * se), critical, rel)

    def report(self, title: str) -> None:
        print(f"\n{title}: largest relative (or absolute) difference from scipy")
        for name, gap in sorted(self.largest.items()):
            print(f"  {name:45s} {gap:.2e}")


@pytest.fixture(scope="module")
def warehouse(full_build) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(full_build.duckdb_path), read_only=True)
    yield connection
    connection.close()


# --- clustered by customer: the reference ----------------------------------------------------------


def null_variances(v1: float, v0: float) -> tuple[float, float, int | None]:
    """The per-assignment variances a mean's test uses (treated, control) and which arm, if any,
    lends its variance (0 treated, 1 control): an arm without variance while the other has some
    takes the other's, the variance it would have under no effect (measurement_null_variance)."""
    if v1 == 0 and v0 > 0:
        return v0, v0, 1
    if v0 == 0 and v1 > 0:
        return v1, v1, 0
    return v1, v0, None


def cr1_sandwich(y: np.ndarray, x: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """The cluster-robust (CR1) covariance of the OLS coefficients of y on x, clustered by
    `clusters`: bread x meat x bread, with Stata's small-sample factor G/(G-1) (N-1)/(N-K)."""
    bread = np.linalg.inv(x.T @ x)
    residuals = y - x @ (bread @ x.T @ y)
    scores = pd.DataFrame(x * residuals[:, None]).groupby(clusters).sum().to_numpy()
    n, k = x.shape
    g = scores.shape[0]
    return g / (g - 1) * (n - 1) / (n - k) * bread @ (scores.T @ scores) @ bread


def clustered_reference(
    y1: np.ndarray, g1: np.ndarray, y0: np.ndarray, g0: np.ndarray, proportion: bool
) -> dict[str, float]:
    """What treatment_effects should report for one metric of a cell whose arms hold outcomes y1
    (treated) and y0 (control) of customers g1 and g0."""
    out: dict[str, float] = {"customers_treated": len(set(g1)), "customers_control": len(set(g0))}
    estimates, naive = [], []
    for y, g in ((y1, g1), (y0, g0)):
        # The arm's mean is the intercept of y on 1; its CR1 variance with one cluster per customer.
        v_naive = y.var(ddof=1) / y.size
        naive.append(v_naive)
        if len(set(g)) == y.size:
            estimates.append(1.0)
        elif v_naive > 0:
            estimates.append(float(cr1_sandwich(y, np.ones((y.size, 1)), g)[0, 0]) / v_naive)
        else:
            estimates.append(None)  # no variance: nothing to estimate the correlation from
    clustered, effective = [], []
    for k, (y, v_naive) in enumerate(((y1, naive[0]), (y0, naive[1]))):
        # An arm without an estimate takes the other arm's; never below 1.
        own, other = estimates[k], estimates[1 - k]
        deff = max(own if own is not None else other if other is not None else 1.0, 1.0)
        clustered.append(v_naive * deff)
        effective.append(y.size / deff)
    out["effective_n_treated"], out["effective_n_control"] = effective
    uplift = y1.mean() - y0.mean()
    if proportion:
        # Rao-Scott: successes and trials divided by each arm's design effect, then the same tests.
        x1, x0 = y1.mean() * effective[0], y0.mean() * effective[1]
        pooled = (x1 + x0) / (effective[0] + effective[1])
        se_null = np.sqrt(pooled * (1 - pooled) * (1 / effective[0] + 1 / effective[1]))
        out["test_statistic"] = uplift / se_null if se_null > 0 else np.nan
        p1, p0 = y1.mean(), y0.mean()
        v1, v0 = p1 * (1 - p1), p0 * (1 - p0)
        total = v1 / y1.size + v0 / y0.size
        out["design_effect"] = (v1 / effective[0] + v0 / effective[1]) / total if total > 0 else np.nan
    else:
        # A degenerate arm takes the other's per-assignment variance (its design effect it already has).
        s1, s0, lender = null_variances(y1.var(ddof=1), y0.var(ddof=1))
        naive = [s1 / y1.size, s0 / y0.size]
        clustered = [naive[0] * y1.size / effective[0], naive[1] * y0.size / effective[1]]
        variance = clustered[0] + clustered[1]
        out["standard_error"] = np.sqrt(variance)
        out["test_statistic"] = uplift / np.sqrt(variance) if variance > 0 else np.nan
        customers = (out["customers_treated"], out["customers_control"])
        spread = clustered[0] ** 2 / (customers[0] - 1) + clustered[1] ** 2 / (customers[1] - 1)
        if lender is not None:  # one variance estimate: its arm's customers - 1
            out["degrees_of_freedom"] = customers[lender] - 1.0
        else:
            out["degrees_of_freedom"] = variance**2 / spread if spread > 0 else np.nan
        out["design_effect"] = variance / (naive[0] + naive[1]) if naive[0] + naive[1] > 0 else np.nan
    return out


def test_cr1_sandwich_of_the_arm_indicator_is_the_sum_of_the_arms() -> None:
    """The difference in means is the coefficient of the arm indicator; with every customer in one
    arm its cluster-robust variance (before small-sample factors) is the sum of the arms' ones,
    which is what the SQL computes per arm."""
    rng = np.random.default_rng(5)
    g1, g0 = rng.integers(0, 40, 300), rng.integers(100, 130, 200)
    effect = rng.normal(size=200)  # a customer effect shared by their assignments
    y1, y0 = effect[g1 % 200] + rng.normal(size=300), effect[g0 % 200] + rng.normal(size=200)
    y, d, g = np.concatenate([y1, y0]), np.r_[np.ones(300), np.zeros(200)], np.concatenate([g1, g0])
    x = np.column_stack([np.ones(500), d])
    joint = cr1_sandwich(y, x, g)[1, 1]
    n, k, clusters = 500, 2, len(set(g))
    joint_cr0 = joint / (clusters / (clusters - 1) * (n - 1) / (n - k))
    arms_cr0 = 0.0
    for yy, gg in ((y1, g1), (y0, g0)):
        m = len(set(gg))
        arms_cr0 += cr1_sandwich(yy, np.ones((yy.size, 1)), gg)[0, 0] / (m / (m - 1))
    assert joint_cr0 == pytest.approx(arms_cr0, rel=1e-12)
    reference = clustered_reference(y1, g1, y0, g0, proportion=False)
    assert reference["design_effect"] > 1.5  # the shared customer effect: far from independent


def check_clustered(gaps: Gaps, effect: pd.Series, metric: str, rows: dict, proportion: bool) -> None:
    """A cell with repeated customers against the numpy sandwich (its design effects and
    effective sizes in every cell, its statistics where it has enough data)."""
    customers = {"treated": len(set(rows["g1"])), "control": len(set(rows["g0"]))}
    if min(customers.values()) < 2:  # no clustered variance, so no interval
        assert pd.isna(effect[f"{metric}_uplift_lower"]), effect.effect_id
        for arm, count in customers.items():
            assert count >= 2 or pd.isna(effect[f"{metric}_effective_n_{arm}"]), (effect.effect_id, arm)
        return
    ref = clustered_reference(rows["y1"], rows["g1"], rows["y0"], rows["g0"], proportion)
    names = ["effective_n_treated", "effective_n_control", "design_effect"]
    if not effect.has_enough_data:
        for name in names:
            if np.isfinite(ref[name]):
                gaps.exact(f"clustered: {name}", effect[f"{metric}_{name}"], ref[name], ROUNDED_SUMS)
        return
    for name in (*names, "test_statistic"):
        if np.isfinite(ref[name]):
            gaps.exact(f"clustered: {name}", effect[f"{metric}_{name}"], ref[name], ROUNDED_SUMS)
    # Wallace's t approximation is held to its accuracy from 30 degrees of freedom on.
    if not proportion and np.isfinite(ref["test_statistic"]) and ref["degrees_of_freedom"] >= MIN_DF:
        gaps.exact(
            "clustered: degrees of freedom",
            effect[f"{metric}_degrees_of_freedom"],
            ref["degrees_of_freedom"],
            ROUNDED_SUMS,
        )
        # The interval is the uplift +- critical t x the clustered standard error.
        lower, upper = effect[f"{metric}_uplift_lower"], effect[f"{metric}_uplift_upper"]
        critical = stats.t.ppf(1 - effect.alpha / 2, ref["degrees_of_freedom"])
        gaps.interval(
            "clustered: interval",
            lower,
            upper,
            effect[f"{metric}_uplift"],
            ref["standard_error"],
            critical,
            WALLACE_QUANTILE,
        )


def check_clustered_cells(effects: pd.DataFrame, compared: pd.DataFrame) -> tuple[Gaps, int]:
    """Every cell of `effects` with a customer assigned more than once, against the reference."""
    gaps, checked = Gaps(), 0
    for _, effect in effects.iterrows():
        rows = cell_rows(compared, effect)
        treated, control = rows[rows.is_treated], rows[~rows.is_treated]
        assert (effect.n_customers_treated, effect.n_customers_control) == (
            treated.customer_key.nunique(),
            control.customer_key.nunique(),
        ), effect.effect_id
        if effect.n_customers_treated == effect.n_treated and effect.n_customers_control == effect.n_control:
            continue
        for metric, outcome in {**PROPORTIONS, **MEANS}.items():
            if rows[outcome].isna().any():
                continue
            arms = {
                "y1": treated[outcome].to_numpy(),
                "g1": treated.customer_key.to_numpy(),
                "y0": control[outcome].to_numpy(),
                "g0": control.customer_key.to_numpy(),
            }
            check_clustered(gaps, effect, metric, arms, metric in PROPORTIONS)
        checked += 1
    return gaps, checked


# --- treatment_effects --------------------------------------------------------------------------


def compared_rows(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per assignment and arm it is compared in (macros/measurement/compared_arms.sql)."""
    rows = connection.execute(
        """
        select
            campaign_id, treatment_code, is_treated, is_window_complete, customer_key is not null as has_customer,
            customer_key,
            cast(needs_segment_id as varchar) as needs_segment, value_tier, lifecycle_stage,
            case when visited then 1.0 else 0.0 end as visits,
            case when converted then 1.0 else 0.0 end as conversions,
            cast(revenue as double) as revenue,
            cast(margin as double) as margin
        from measurement.treatment_outcomes
        """
    ).df()
    # A shared control (no treatment code) is the control of every arm its campaign treated.
    arms = rows.loc[rows.is_treated, ["campaign_id", "treatment_code"]].drop_duplicates()
    shared = rows[~rows.is_treated & rows.treatment_code.isna()].drop(columns="treatment_code")
    compared = pd.concat([rows[rows.treatment_code.notna()], shared.merge(arms, on="campaign_id")])
    return compared[compared.is_window_complete & compared.has_customer]


def cell_rows(compared: pd.DataFrame, effect: pd.Series) -> pd.DataFrame:
    rows = compared[
        (compared.campaign_id == effect.campaign_id) & (compared.treatment_code == effect.treatment_code)
    ]
    if effect.dimension == "overall":
        return rows
    return rows[rows[DIMENSIONS[effect.dimension]] == effect.dimension_value]


def check_proportion(gaps: Gaps, effect: pd.Series, metric: str, y1: np.ndarray, y0: np.ndarray) -> None:
    alpha, power = effect.alpha, effect.statistical_power
    z = stats.norm.ppf(1 - alpha / 2)
    x1, n1, x0, n0 = y1.sum(), y1.size, y0.sum(), y0.size
    p1, p0 = x1 / n1, x0 / n0
    gaps.exact("rate: treated, control", effect[f"{metric}_treated"], p1)
    gaps.exact("rate: treated, control", effect[f"{metric}_control"], p0)
    gaps.exact("rate: uplift", effect[f"{metric}_uplift"], p1 - p0)
    if 0 < x1 + x0 < n1 + n0:
        # The pooled two-proportion z-test is the 2x2 chi-square test without continuity correction.
        table = np.array([[x1, n1 - x1], [x0, n0 - x0]])
        chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
        gaps.exact(
            "rate: z statistic (pooled)", effect[f"{metric}_test_statistic"], np.sign(p1 - p0) * np.sqrt(chi2)
        )
        gaps.absolute("rate: p-value", effect[f"{metric}_p_value"], p_value, ERFC_ABS)
        pooled = (x1 + x0) / (n1 + n0)
        se_null = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        multiplier = z + stats.norm.ppf(power)
        gaps.exact(
            "rate: minimum detectable effect",
            effect[f"{metric}_minimum_detectable_effect"],
            multiplier * se_null,
            QUANTILE,
        )
    # Agresti-Caffo: one success and one failure added to each arm.
    a1, a0 = (x1 + 1) / (n1 + 2), (x0 + 1) / (n0 + 2)
    se_ac = np.sqrt(a1 * (1 - a1) / (n1 + 2) + a0 * (1 - a0) / (n0 + 2))
    lower, upper = effect[f"{metric}_uplift_lower"], effect[f"{metric}_uplift_upper"]
    gaps.interval("rate: interval (Agresti-Caffo)", lower, upper, a1 - a0, se_ac, z, QUANTILE)
    if x1 > 0 and x0 > 0:
        risk = stats.contingency.relative_risk(int(x1), n1, int(x0), n0)
        interval = risk.confidence_interval(confidence_level=1 - alpha)
        gaps.exact("rate: relative uplift", effect[f"{metric}_relative_uplift"], risk.relative_risk - 1)
        # On the log scale: log relative risk +- z x its standard error, read off scipy's interval.
        se_log = (np.log(interval.high) - np.log(interval.low)) / (2 * z)
        lower, upper = (np.log1p(effect[f"{metric}_relative_uplift_{side}"]) for side in ("lower", "upper"))
        gaps.interval(
            "rate: relative interval (Katz)", lower, upper, np.log(risk.relative_risk), se_log, z, QUANTILE
        )


def check_mean(gaps: Gaps, effect: pd.Series, metric: str, y1: np.ndarray, y0: np.ndarray) -> None:
    alpha, power = effect.alpha, effect.statistical_power
    uplift = y1.mean() - y0.mean()
    gaps.exact("mean: treated, control", effect[f"{metric}_treated"], y1.mean())
    gaps.exact("mean: treated, control", effect[f"{metric}_control"], y0.mean())
    gaps.exact("mean: uplift", effect[f"{metric}_uplift"], uplift)
    v1, v0, lender = null_variances(y1.var(ddof=1), y0.var(ddof=1))
    se = np.sqrt(v1 / y1.size + v0 / y0.size)
    if se == 0:
        assert pd.isna(effect[f"{metric}_test_statistic"])
        return
    if lender is None:
        welch = stats.ttest_ind(y1, y0, equal_var=False)
        statistic, df, p_value = welch.statistic, welch.df, welch.pvalue
        # scipy's exact t interval around the uplift; the SQL's critical t is Wallace's approximation.
        interval = welch.confidence_interval(confidence_level=1 - alpha)
        se = (interval.high - interval.low) / (2 * stats.t.ppf(1 - alpha / 2, df))
        name = "Welch"
    else:
        # One arm without variance: the other's for both, on that arm's n - 1 degrees of freedom.
        statistic, df = uplift / se, (y1.size, y0.size)[lender] - 1.0
        p_value = 2 * stats.t.sf(abs(statistic), df)
        name = "Welch, degenerate arm"
    assert df >= MIN_DF, "Wallace's approximation is held to its accuracy from 30 df on"
    gaps.exact(f"mean: {name} t statistic", effect[f"{metric}_test_statistic"], statistic)
    gaps.exact(f"mean: {name} degrees of freedom", effect[f"{metric}_degrees_of_freedom"], df)
    gaps.absolute(f"mean: {name} p-value (Wallace)", effect[f"{metric}_p_value"], p_value, WALLACE_P_ABS)
    critical = stats.t.ppf(1 - alpha / 2, df)
    lower, upper = effect[f"{metric}_uplift_lower"], effect[f"{metric}_uplift_upper"]
    gaps.interval(f"mean: interval ({name})", lower, upper, uplift, se, critical, WALLACE_QUANTILE)
    multiplier = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)
    gaps.exact(
        "mean: minimum detectable effect",
        effect[f"{metric}_minimum_detectable_effect"],
        multiplier * se,
        WALLACE_QUANTILE,
    )
    if y1.mean() > 0 and y0.mean() > 0:
        log_ratio = np.log(y1.mean() / y0.mean())
        se_log = np.sqrt(v1 / (y1.size * y1.mean() ** 2) + v0 / (y0.size * y0.mean() ** 2))
        z = stats.norm.ppf(1 - alpha / 2)
        gaps.exact("mean: relative uplift", effect[f"{metric}_relative_uplift"], np.exp(log_ratio) - 1)
        lower, upper = (np.log1p(effect[f"{metric}_relative_uplift_{side}"]) for side in ("lower", "upper"))
        gaps.interval("mean: relative interval (delta method)", lower, upper, log_ratio, se_log, z, QUANTILE)


# --- treatment_effects, all cells ---------------------------------------------------------------


def test_treatment_effects_match_scipy(warehouse: duckdb.DuckDBPyConnection) -> None:
    effects = warehouse.execute("select * from measurement.treatment_effects where has_enough_data").df()
    compared = compared_rows(warehouse)
    assert set(effects.dimension) == {"overall", *DIMENSIONS}, "every kind of cell is checked"
    gaps, checked, repeated = Gaps(), 0, 0
    for _, effect in effects.iterrows():
        rows = cell_rows(compared, effect)
        treated, control = rows[rows.is_treated], rows[~rows.is_treated]
        assert (len(treated), len(control)) == (effect.n_treated, effect.n_control), effect.effect_id
        if effect.n_customers_treated < effect.n_treated or effect.n_customers_control < effect.n_control:
            repeated += 1  # a customer assigned more than once: check_clustered_cells below
            continue
        # Every customer once: exactly the unclustered methods, a design effect of exactly 1.
        for metric in (*PROPORTIONS, *MEANS):
            if pd.notna(effect[f"{metric}_design_effect"]):
                assert effect[f"{metric}_design_effect"] == 1.0, (effect.effect_id, metric)
            assert effect[f"{metric}_effective_n_treated"] == effect.n_treated, (effect.effect_id, metric)
        for metric, outcome in PROPORTIONS.items():
            check_proportion(gaps, effect, metric, treated[outcome].to_numpy(), control[outcome].to_numpy())
        for metric, outcome in MEANS.items():
            if rows[outcome].isna().any():  # an unknown margin: the SQL does not estimate the cell
                assert pd.isna(effect[f"{metric}_uplift"]) and pd.isna(effect[f"{metric}_p_value"])
                continue
            check_mean(gaps, effect, metric, treated[outcome].to_numpy(), control[outcome].to_numpy())
        checked += 1
    gaps.report(f"treatment_effects, {checked} cells with every customer once")
    assert checked >= 10
    clustered_gaps, clustered = check_clustered_cells(effects, compared)
    assert clustered == repeated
    clustered_gaps.report(f"treatment_effects, {clustered} cells with repeated customers")


# --- loyalty_program_effect ---------------------------------------------------------------------


def loyalty_units(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return connection.execute(
        """
        select
            is_member, cohort_month, stratum_id, is_active_after,
            cast(post_orders as double) as post_orders,
            cast(post_revenue as double) as post_revenue,
            cast(post_margin as double) as post_margin,
            orders_change, revenue_change, margin_change
        from intermediate.int_measurement__loyalty_units
        """
    ).df()


def stratified_did(units: pd.DataFrame, stratum: str, outcome: str, min_controls: int) -> dict[str, float]:
    """Member-weighted mean over strata of (members' mean - non-members' mean), with its standard
    error from the pooled within-stratum variances of each group (loyalty_program_effect.sql)."""
    groups = units.groupby([stratum, "is_member"])[outcome]
    table = pd.DataFrame(
        {"n": groups.size(), "mean": groups.mean(), "ss": groups.var(ddof=0) * groups.size()}
    )
    table = table.unstack("is_member")
    table = table[(table[("n", True)] > 0) & (table[("n", False)] >= min_controls)]
    n_m, n_c = table[("n", True)], table[("n", False)]
    weight = n_m / n_m.sum()
    effect = float((weight * (table[("mean", True)] - table[("mean", False)])).sum())
    strata = len(table)
    var_m = table[("ss", True)].sum() / (n_m.sum() - strata)
    var_c = table[("ss", False)].sum() / (n_c.sum() - strata)
    se = float(np.sqrt(var_m / n_m.sum() + var_c * (weight**2 / n_c).sum()))
    return {"effect": effect, "se": se, "members": float(n_m.sum()), "strata": strata}


def test_loyalty_difference_in_differences_matches_scipy(warehouse: duckdb.DuckDBPyConnection) -> None:
    settings = project_vars()
    min_controls = max(int(settings["measurement_loyalty_min_stratum_controls"]), 2)
    alpha = float(settings["measurement_alpha"])
    z = stats.norm.ppf(1 - alpha / 2)
    units = loyalty_units(warehouse)
    estimates = (
        warehouse.execute("select * from measurement.loyalty_program_effect").df().set_index("estimate")
    )
    designs = {
        "naive": (units, "cohort_month", "post_{}"),
        "matched_did": (units, "stratum_id", "{}_change"),
        "matched_did_active": (units[units.is_active_after], "stratum_id", "{}_change"),
    }
    assert set(estimates.index) == set(designs)
    gaps = Gaps()
    for name, (rows, stratum, outcome) in designs.items():
        row = estimates.loc[name]
        for measure in MEASURES:
            did = stratified_did(rows, stratum, outcome.format(measure), min_controls)
            assert (row.members_measured, row.strata_matched) == (did["members"], did["strata"])
            prefix = f"incremental_{measure}"
            gaps.exact("effect per member", row[f"{prefix}_per_member"], did["effect"])
            gaps.exact("standard error", row[f"{prefix}_standard_error"], did["se"])
            lower, upper = row[f"{prefix}_per_member_lower"], row[f"{prefix}_per_member_upper"]
            gaps.interval("interval", lower, upper, did["effect"], did["se"], z, QUANTILE)
            p_value = 2 * stats.norm.sf(abs(did["effect"] / did["se"]))
            gaps.absolute("p-value", row[f"{prefix}_p_value"], p_value, ERFC_ABS)
    gaps.report("loyalty_program_effect")
