"""Every shape of company the generator makes builds green (every dbt test and every Great
Expectations suite; the experiment shape through the Dagster demo job) from raw files holding
only that shape's tables, and the warehouse recovers the shape's planted truth
(_truth/shape.json): revenue split by identified and anonymous buyers, the Pareto
share of identified customers, currencies converted into the reporting currency, the outside
experiment's arms against their shared control, the shop's own vocabulary as columns; and the
orders-only shop's HTML report in headless Chromium ("not provided" where a source is absent).

One build per shape, shared by its tests (module-scoped fixtures; the experiment shape is the
session's demo run, conftest.experiment_demo); each test prints the figures it compares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckSeverity
from test_report_browser import SCREENSHOTS, assert_page_drew

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.report.browser import inspect_report
from orchestration.report.build import build_report
from orchestration.validation.runner import FAILED, Validator
from orchestration.validation.suites import all_suites

pytestmark = pytest.mark.slow

# Small enough to keep the suite short, large enough for the checks below.
SHAPE_CUSTOMERS = {"orders_only": 1500, "multi_currency": 600}
GENERATOR_CATEGORIES = ("fashion", "beauty", "home", "electronics", "sports", "kids", "grocery", "books")


@dataclass(frozen=True)
class ShapeBuild:
    shape: str
    raw: Path
    warehouse: Path
    truth: dict
    success: bool
    failed_checks: tuple[str, ...]

    def rows(self, sql: str) -> list[tuple]:
        connection = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()


def _build_shape(shape: str, root: Path) -> ShapeBuild:
    """Generate the shape, `dbt build` it and run every Great Expectations suite on the result.

    The same dbt tests and suites the daily Dagster job runs, in one dbt invocation instead of
    one per layer: the Dagster path itself is exercised on the experiment shape (the session's
    demo run) and by test_dagster_definitions.
    """
    raw = root / "raw"
    generate(GeneratorConfig(customers=SHAPE_CUSTOMERS[shape], seed=13, out=raw, shape=shape))
    workspace = DbtWorkspace(raw, root / "warehouse.duckdb", root / "dbt")
    built = run_dbt(["build"], workspace)
    if built.returncode != 0:
        print(built.stdout[-6000:])
    results = Validator(warehouse=workspace.duckdb_path, directory=root / "validation").run(all_suites())
    failed = tuple(f"{r.table}: {r.message}" for r in results if r.status == FAILED)
    truth = json.loads((raw / "_truth" / "shape.json").read_text())
    return ShapeBuild(shape, raw, workspace.duckdb_path, truth, built.returncode == 0, failed)


@pytest.fixture(scope="module")
def orders_only(tmp_path_factory: pytest.TempPathFactory) -> ShapeBuild:
    return _build_shape("orders_only", tmp_path_factory.mktemp("orders_only"))


@pytest.fixture(scope="module")
def multi_currency(tmp_path_factory: pytest.TempPathFactory) -> ShapeBuild:
    return _build_shape("multi_currency", tmp_path_factory.mktemp("multi_currency"))


@pytest.fixture(scope="module")
def experiment(experiment_demo) -> ShapeBuild:
    """The experiment shape comes from the session's demo run (sample data and warehouse in one job)."""
    failed = tuple(
        e.asset_check_key.to_user_string()
        for e in experiment_demo.result.get_asset_check_evaluations()
        if not e.passed and e.severity == AssetCheckSeverity.ERROR
    )
    truth = json.loads((experiment_demo.raw / "_truth" / "shape.json").read_text())
    return ShapeBuild(
        "experiment",
        experiment_demo.raw,
        experiment_demo.warehouse,
        truth,
        experiment_demo.result.success,
        failed,
    )


def _assert_green(build: ShapeBuild) -> None:
    print(f"\n{build.shape}: build success {build.success}; blocking checks failed: {build.failed_checks}")
    assert build.success, build.failed_checks
    assert not build.failed_checks


def test_orders_only_builds_green_with_only_its_tables(orders_only: ShapeBuild) -> None:
    _assert_green(orders_only)
    provided = dict(orders_only.rows("select raw_table, is_provided from audit.audit__source_tables"))
    print(f"provided: {sorted(t for t, p in provided.items() if p)}")
    assert {t for t, p in provided.items() if p} == set(orders_only.truth["tables"])
    # A source the shop does not have gives null features, not zeros, and no vocabulary columns.
    columns = {
        c
        for (c,) in orders_only.rows(
            "select column_name from information_schema.columns "
            "where table_schema = 'customer_360' and table_name = 'customer_360'"
        )
    }
    assert not [c for c in columns if c.startswith("has_") and c.endswith("_consent")]
    assert not [c for c in columns if c.startswith("category_share_") and c != "category_share_other"]
    (customers, sessions, messages, cases) = orders_only.rows(
        "select count(*), count(sessions_count), count(messages_sent_count), count(service_cases_count) "
        "from customer_360.customer_360"
    )[0]
    print(f"{customers} customers; known sessions {sessions}, messages {messages}, service cases {cases}")
    assert customers > 0 and (sessions, messages, cases) == (0, 0, 0)


def test_orders_only_counts_anonymous_purchases_as_revenue_not_customers(orders_only: ShapeBuild) -> None:
    truth = orders_only.truth["revenue"]
    (total, identified, unidentified, share) = orders_only.rows(
        "select net_revenue, identified_net_revenue, unidentified_net_revenue, unidentified_revenue_share "
        "from marts.value_revenue_totals"
    )[0]
    print(
        f"revenue total {float(total):.2f} (truth {truth['total']}), unidentified {float(unidentified):.2f} "
        f"(truth {truth['unidentified']}), share {share:.4f} (truth {truth['unidentified_share']})"
    )
    assert float(total) == pytest.approx(truth["total"], abs=0.05)
    assert float(unidentified) == pytest.approx(truth["unidentified"], abs=0.05)
    assert float(identified) == pytest.approx(truth["identified"], abs=0.05)
    # Customer-level marts add up to identified revenue only.
    (customer_revenue,) = orders_only.rows("select sum(revenue) from marts.customer_value")[0]
    assert float(customer_revenue) == pytest.approx(truth["identified"], abs=0.05)


def test_orders_only_pareto_share_is_over_identified_customers(orders_only: ShapeBuild) -> None:
    """value_pareto_curve ranks every known customer (those without a purchase at zero): the
    planted share over identified persons, not the one that takes each walk-in for a customer."""
    pareto = orders_only.truth["pareto"]
    planted = pareto["top_20_percent_revenue_share_identified_persons"]
    misread = pareto["top_20_percent_revenue_share_guest_orders_as_customers"]
    (measured,) = orders_only.rows(
        "select revenue_share from marts.value_pareto_curve where abs(top_customer_share - 0.2) < 1e-6"
    )[0]
    (customers,) = orders_only.rows("select count(*) from marts.customer_value")[0]
    print(
        f"top-20% revenue share {measured:.4f} over {customers} customers; planted {planted:.4f} over "
        f"{pareto['identified_persons']} persons; guests-as-customers {misread:.4f}"
    )
    assert measured == pytest.approx(planted, abs=0.01)
    assert abs(measured - planted) < abs(misread - planted)


def test_orders_only_has_unknown_margin_not_margin_equal_to_revenue(orders_only: ShapeBuild) -> None:
    (buyers, with_margin, margin_is_revenue) = orders_only.rows(
        "select count(*), count(gross_margin), count(case when gross_margin = revenue and revenue > 0 then 1 end) "
        "from marts.customer_value where revenue > 0"
    )[0]
    print(f"buyers {buyers}, with a margin {with_margin}, margin = revenue {margin_is_revenue}")
    assert buyers > 0 and with_margin == 0 and margin_is_revenue == 0


def test_orders_only_clv_fit_recovers_the_planted_process(orders_only: ShapeBuild) -> None:
    planted = orders_only.truth["bg_nbd"]
    fit = orders_only.rows(
        "select r, alpha, a, b, fit_status from marts.clv_model_fit "
        "where model_name = 'bg_nbd' order by fitted_at desc limit 1"
    )[0]
    print(
        f"BG/NBD r {fit[0]:.3f} alpha {fit[1]:.1f} a {fit[2]:.3f} b {fit[3]:.3f} ({fit[4]}); planted {planted}"
    )
    assert fit[4] == "ok"
    assert fit[0] == pytest.approx(planted["r"], rel=0.35)
    assert fit[1] == pytest.approx(planted["alpha"], rel=0.35)


def test_orders_only_report_says_not_provided_and_draws_the_rest(
    orders_only: ShapeBuild, tmp_path: Path
) -> None:
    """The report of a shop with orders only, in headless Chromium (test_report_browser's checks):
    no JavaScript error, marks in every figure drawn, and the figures whose raw tables are absent
    (loyalty: crm.loyalty_members) say "not provided" instead of drawing empty charts. The
    anonymous revenue tile shows what the warehouse holds."""
    page = build_report(orders_only.warehouse, tmp_path / "report" / "index.html")
    seen = inspect_report(page, SCREENSHOTS / "orders_only")
    assert_page_drew(seen)
    html = page.read_text()
    absent = {
        t
        for (t,) in orders_only.rows("select raw_table from audit.audit__source_tables where not is_provided")
    }
    print(f"not provided: {sorted(absent)}; chart states {seen.chart_states}")
    assert "crm.loyalty_members" in absent
    assert seen.chart_states["measurement-loyalty-estimates"] == "missing"
    assert "Not provided: this build was given no crm.loyalty_members data." in html
    if "crm.consents" in absent:  # no consenting channel: nothing to send, said so
        assert seen.chart_states["activation-channels"] == "missing"
        assert "Not provided: this build was given no crm.consents data." in html
    # Value and journey come from orders alone: drawn.
    for key in ("value-pareto", "value-tiers", "value-clv", "journey-flows", "journey-kpi-customers"):
        assert seen.chart_states[key] == "drawn", key
    (unidentified,) = orders_only.rows("select unidentified_net_revenue from marts.value_revenue_totals")[0]
    assert f"{float(unidentified):,.0f}" in html


def test_multi_currency_converts_into_the_reporting_currency(multi_currency: ShapeBuild) -> None:
    _assert_green(multi_currency)
    truth = multi_currency.truth
    (total, currency, currencies) = multi_currency.rows(
        "select net_revenue, reporting_currency, currencies_count from marts.value_revenue_totals"
    )[0]
    print(
        f"net revenue {float(total):.2f} {currency} over {currencies} currencies; truth {truth['revenue']['total']}"
    )
    assert currency == truth["reporting_currency"]
    assert currencies == len(truth["currencies"])
    assert float(total) == pytest.approx(truth["revenue"]["total"], abs=0.05)


def test_experiment_shop_keeps_its_own_vocabulary(experiment: ShapeBuild) -> None:
    _assert_green(experiment)
    columns = {
        c
        for (c,) in experiment.rows(
            "select column_name from information_schema.columns "
            "where table_schema = 'customer_360' and table_name = 'customer_360'"
        )
    }
    categories = {c.removeprefix("category_share_") for c in columns if c.startswith("category_share_")}
    channels = {c.removeprefix("channel_share_") for c in columns if c.startswith("channel_share_")}
    print(f"category columns {sorted(categories)}; channel columns {sorted(channels)}")
    assert categories - {"other"} <= set(experiment.truth["categories"])
    assert not categories & set(GENERATOR_CATEGORIES)
    assert "phone" in channels and "telesales" not in channels  # grouped by the seed
    (phone_orders,) = experiment.rows(
        "select count(*) from staging.stg_shop__orders where channel = 'phone'"
    )[0]
    assert phone_orders > 0
    (refused,) = experiment.rows(
        "select count(*) from audit.audit__quarantine where quarantine_detail = 'channel'"
    )[0]
    assert refused == 0


def test_experiment_arms_are_measured_against_their_shared_control(experiment: ShapeBuild) -> None:
    """Each arm of the outside experiment against the one shared control group: the observed
    rates equal the generator's (the same customers, counted once per arm), the planted effect
    lies in the interval, the zero-effect arm is not called significant, and arms outside the
    activation catalog get no ROI, with the reason."""
    planted = experiment.truth["external_experiment"]
    campaign = planted["campaign_id"]
    rows = experiment.rows(
        "select treatment_code, n_treated, n_control, n_control_shared, conversion_rate_treated, "
        "conversion_rate_control, conversion_rate_uplift_lower, conversion_rate_uplift_upper, "
        "conversion_rate_is_significant, roi, roi_null_reason from measurement.treatment_effects "
        f"where campaign_id = '{campaign}' and dimension = 'overall'"
    )
    measured = {row[0]: row[1:] for row in rows}
    print()
    assert set(measured) == set(planted["arms"])
    for arm, truth in planted["arms"].items():
        n_t, n_c, n_shared, treated, control, lower, upper, significant, roi, roi_reason = measured[arm]
        print(
            f"{arm}: n {n_t}/{n_c} (shared {n_shared}); conversion {treated:.4f} vs {control:.4f} "
            f"(truth {truth['observed_conversion_treatment']:.4f} vs {truth['observed_conversion_control']:.4f}); "
            f"uplift [{lower:.3f}, {upper:.3f}] planted {truth['true_effect_purchase_probability']:.3f}; "
            f"significant {significant}; roi {roi} ({roi_reason})"
        )
        assert (n_t, n_c) == (truth["n_treatment"], truth["n_control"])
        assert n_shared == planted["n_control"]
        assert treated == pytest.approx(truth["observed_conversion_treatment"], abs=1e-6)
        assert control == pytest.approx(truth["observed_conversion_control"], abs=1e-6)
        assert lower <= truth["true_effect_purchase_probability"] <= upper
        if truth["true_effect_purchase_probability"] == 0:
            assert not significant
        assert roi is None and "catalog" in roi_reason


def test_multi_currency_without_rates_fails_naming_the_currencies(
    tmp_path: Path, multi_currency: ShapeBuild
) -> None:
    """The same orders without their exchange rates: the build stops and names what is missing
    rather than summing pounds, dollars and euros."""
    import shutil

    from orchestration.dbt_cli import DbtWorkspace, run_dbt

    raw = tmp_path / "raw"
    shutil.copytree(multi_currency.raw, raw)
    shutil.rmtree(raw / "shop" / "exchange_rates")
    workspace = DbtWorkspace(raw, tmp_path / "no_rates.duckdb", tmp_path / "dbt")
    # The seeds and staged tables the conversion reads, without their tests (the shape's build ran them).
    result = run_dbt(
        ["build", "--select", "+int_finance__order_amounts", "--exclude-resource-type", "test"], workspace
    )
    message = next(line for line in result.stdout.splitlines() if "currencies" in line)
    print(message.strip())
    assert result.returncode != 0
    foreign = sorted(set(multi_currency.truth["currencies"]) - {multi_currency.truth["reporting_currency"]})
    assert all(currency in message for currency in foreign)
    # Naming the reporting currency does not help: the rates are still missing.
    reporting = multi_currency.truth["reporting_currency"]
    result = run_dbt(
        ["build", "--select", "int_finance__order_amounts", "--vars", f"{{reporting_currency: {reporting}}}"],
        workspace,
    )
    assert result.returncode != 0
    assert f"No exchange rate into {reporting} for currencies: {', '.join(foreign)}" in result.stdout
