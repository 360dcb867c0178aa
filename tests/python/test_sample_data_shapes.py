"""Tests of the generator's company shapes: each writes exactly its tables, what makes it that
shape is in the raw rows, and its planted truth (_truth/shape.json) agrees with the raw rows."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.contract import TABLES_BY_NAME
from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.devtools.sample_data.cli import main
from orchestration.devtools.sample_data.config import (
    CATEGORIES,
    EXTERNAL_ARMS,
    EXTERNAL_CAMPAIGN_ID,
    MUSIC_CATEGORIES,
)
from orchestration.devtools.sample_data.shapes import SHAPE_NAMES, SHAPES

PROJECT_DIR = Path(__file__).resolve().parents[2]
CUSTOMERS, SEED = 600, 13
ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
DATE_ONLY = r"^\d{4}-\d{2}-\d{2}$"


@pytest.fixture(scope="module")
def shapes_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every shape generated once, from the same seed."""
    root = tmp_path_factory.mktemp("shapes")
    for shape in SHAPE_NAMES:
        generate(GeneratorConfig(customers=CUSTOMERS, seed=SEED, out=root / shape, shape=shape))
    return root


def raw(root: Path, qualified: str) -> pd.DataFrame:
    source, name = qualified.split(".")
    return pd.concat([pq.read_table(p).to_pandas() for p in sorted((root / source / name).glob("part-*"))])


def shape_truth(root: Path) -> dict:
    return json.loads((root / "_truth/shape.json").read_text())


def written_tables(root: Path) -> set[str]:
    return {f"{p.parent.name}.{p.name}" for p in root.glob("*/*") if p.is_dir() and p.parent.name != "_truth"}


def order_revenue(root: Path) -> pd.DataFrame:
    """Orders with their net amount (in the order's currency) recomputed from the raw lines."""
    orders = raw(root, "shop.orders")
    lines = raw(root, "shop.order_lines")
    lines["net"] = lines.quantity * lines.unit_price - lines.discount_amount
    net = lines.groupby("order_id").net.sum().rename("local")
    orders = orders.merge(net, left_on="order_id", right_index=True, how="left")
    orders["identified"] = orders.customer_id.notna() | orders.email.notna()
    return orders[orders.status != "cancelled"]


def top_share(revenue: pd.Series, share: float = 0.2) -> float:
    ranked = revenue.sort_values(ascending=False)
    return float(ranked.iloc[: math.ceil(round(share * len(ranked), 9))].sum() / ranked.sum())


def file_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- every shape ------------------------------------------------------------------------------


def test_full_is_the_default_and_byte_identical(shapes_root: Path, tmp_path: Path) -> None:
    generate(GeneratorConfig(customers=CUSTOMERS, seed=SEED, out=tmp_path / "default"))
    assert file_hashes(tmp_path / "default") == file_hashes(shapes_root / "full")


@pytest.mark.parametrize("shape", SHAPE_NAMES)
def test_each_shape_writes_exactly_its_tables(shapes_root: Path, shape: str) -> None:
    root = shapes_root / shape
    assert written_tables(root) == set(SHAPES[shape].tables)
    manifest = json.loads((root / "_truth/manifest.json").read_text())
    assert manifest["shape"] == shape and manifest["tables"] == list(SHAPES[shape].tables)
    truth = shape_truth(root)
    assert truth["shape"] == shape and truth["tables"] == list(SHAPES[shape].tables)
    for name in SHAPES[shape].tables:
        contract = TABLES_BY_NAME[name]
        source, table = name.split(".")
        schema = pq.read_schema(root / source / table / "part-00000.parquet")
        assert schema.names == contract.column_names, name
        date_only = SHAPES[shape].date_only_columns(name)
        for col in contract.columns:
            want = pa.string() if col.name in date_only else ARROW[col.logical_type]
            assert schema.field(col.name).type == want, (name, col.name)


@pytest.mark.parametrize("shape", SHAPE_NAMES)
def test_revenue_truth_is_what_the_raw_rows_say(shapes_root: Path, shape: str) -> None:
    root = shapes_root / shape
    truth = shape_truth(root)
    orders = order_revenue(root)
    if shape == "multi_currency":
        rates = raw(root, "shop.exchange_rates")
        rates["month"] = pd.to_datetime(rates.rate_date).dt.strftime("%Y-%m")
        orders["month"] = orders.ordered_at.dt.strftime("%Y-%m")
        orders = orders.merge(rates[["currency", "month", "rate"]], on=["currency", "month"], how="left")
        assert orders.rate.notna().all()
    else:
        assert set(orders.currency) == {"EUR"}
        orders["rate"] = 1.0
    orders["eur"] = orders.local * orders.rate
    revenue = truth["revenue"]
    figures = {k: revenue[k] for k in ("total", "identified", "unidentified")}
    print(f"{shape}: revenue {figures}, top 20% share {truth['pareto']['top_20_percent_revenue_share']}")
    assert revenue["total"] == pytest.approx(orders.eur.sum(), abs=0.01)
    assert revenue["identified"] == pytest.approx(orders.eur[orders.identified].sum(), abs=0.01)
    assert revenue["unidentified"] == pytest.approx(orders.eur[~orders.identified].sum(), abs=0.01)
    assert revenue["identified"] + revenue["unidentified"] == pytest.approx(revenue["total"], abs=0.02)
    for code, figures in truth["currencies"].items():
        mine = orders[orders.currency == code]
        assert figures["non_cancelled_orders"] == len(mine)
        assert figures["revenue"] == pytest.approx(mine.local.sum(), abs=0.01)

    # Pareto on identified persons: the truth's person behind each identified order.
    owners = pq.read_table(root / "_truth/orders.parquet", columns=["order_id", "person_id"]).to_pandas()
    identified = orders[orders.identified].merge(owners, on="order_id")
    per_person = identified.groupby("person_id").eur.sum()
    pareto = truth["pareto"]
    assert pareto["identified_buyers"] == len(per_person)
    assert pareto["top_20_percent_revenue_share"] == pytest.approx(top_share(per_person), abs=1e-6)
    guests = orders.eur[~orders.identified].reset_index(drop=True)
    misread = pd.concat([per_person.reset_index(drop=True), guests], ignore_index=True)
    assert pareto["top_20_percent_revenue_share_guest_orders_as_customers"] == pytest.approx(
        top_share(misread), abs=1e-6
    )
    assert truth["bg_nbd"] == {"r": 0.9, "alpha": 70.0, "a": 1.0, "b": 4.0}
    assert truth["gamma_gamma"] == {"p": 6.0, "q": 4.0, "gamma": 30.0}


# --- orders_only ------------------------------------------------------------------------------


def test_orders_only_has_anonymous_walk_ins(shapes_root: Path) -> None:
    root = shapes_root / "orders_only"
    orders = raw(root, "shop.orders")
    anonymous = orders.customer_id.isna() & orders.email.isna()
    truth = shape_truth(root)
    print(f"anonymous orders: {anonymous.mean():.3f}, truth {truth['orders']}")
    assert 0.15 <= anonymous.mean() <= 0.35
    assert truth["orders"]["unidentified"] == anonymous.sum()
    assert truth["revenue"]["unidentified"] > 0
    # Walk-ins own no account: no person behind an anonymous order has a customer_id.
    owners = pq.read_table(root / "_truth/orders.parquet", columns=["order_id", "person_id"]).to_pandas()
    walk_ins = set(owners[owners.order_id.isin(orders.order_id[anonymous])].person_id)
    persons = pq.read_table(root / "_truth/persons.parquet").to_pandas()
    account_holders = set(persons[persons.identifier_type == "customer_id"].person_id)
    assert walk_ins and not walk_ins & account_holders
    assert set(persons.identifier_type) == {"customer_id", "email", "phone"}
    # Their share of revenue is large enough that counting them as customers misreads the Pareto.
    pareto = truth["pareto"]
    assert (
        pareto["top_20_percent_revenue_share_guest_orders_as_customers"]
        > pareto["top_20_percent_revenue_share"]
    )


def test_orders_only_products_have_no_category_or_cost(shapes_root: Path) -> None:
    products = raw(shapes_root / "orders_only", "shop.products")
    assert len(products) > 0
    assert products[["category", "subcategory", "unit_cost"]].isna().all().all()
    assert products[["product_id", "name", "list_price"]].notna().all().all()


def test_orders_only_timestamps_are_dates(shapes_root: Path) -> None:
    root = shapes_root / "orders_only"
    orders, customers = raw(root, "shop.orders"), raw(root, "shop.customers")
    assert orders.ordered_at.str.fullmatch(DATE_ONLY).all()
    assert customers.created_at.str.fullmatch(DATE_ONLY).all()
    assert customers.updated_at.str.fullmatch(DATE_ONLY).all()
    assert not customers.duplicated(["customer_id", "updated_at"]).any()
    # Same days as the full world's instants (UTC).
    full = raw(shapes_root / "full", "shop.orders").set_index("order_id").ordered_at.dt.strftime("%Y-%m-%d")
    assert (orders.set_index("order_id").ordered_at == full.loc[orders.order_id].to_numpy()).all()


# --- experiment -------------------------------------------------------------------------------


def test_experiment_shares_one_control_group_between_two_outside_arms(shapes_root: Path) -> None:
    root = shapes_root / "experiment"
    assignments = raw(root, "marketing.assignments")
    ext = assignments[assignments.campaign_id == EXTERNAL_CAMPAIGN_ID]
    control, treated = ext[ext.group == "control"], ext[ext.group == "treatment"]
    assert len(control) > 0 and control.treatment_code.isna().all()
    codes = {a.treatment_code for a in EXTERNAL_ARMS}
    assert set(treated.treatment_code) == codes
    catalog = set(pd.read_csv(PROJECT_DIR / "seeds/activation_treatments.csv").treatment_code)
    assert not codes & catalog
    assert not ext.customer_id.duplicated().any()
    assert assignments.assignment_id.is_unique

    effects = pq.read_table(root / "_truth/treatment_effects.parquet").to_pandas()
    arms = effects[(effects.level == "campaign") & (effects.campaign_id == EXTERNAL_CAMPAIGN_ID)]
    arms = arms.set_index("treatment_code")
    assert set(arms.index) == codes
    assert (arms.n_control == len(control)).all()
    for code, n in treated.treatment_code.value_counts().items():
        assert arms.loc[code, "n_treatment"] == n
    assert arms.loc["EXT_ARM_A", "true_effect_purchase_probability"] > 0.02
    assert arms.loc["EXT_ARM_A", "true_effect_revenue"] > 0
    assert arms.loc["EXT_ARM_B", "true_effect_purchase_probability"] == 0
    assert arms.loc["EXT_ARM_B", "true_effect_revenue"] == 0
    outcomes = pq.read_table(root / "_truth/external_assignment_outcomes.parquet").to_pandas()
    assert len(outcomes) == len(treated) + len(EXTERNAL_ARMS) * len(control)
    assert outcomes.is_shared_control.sum() == len(EXTERNAL_ARMS) * len(control)
    truth = shape_truth(root)["external_experiment"]
    assert truth["n_control"] == len(control)
    assert truth["arms"]["EXT_ARM_A"]["true_effect_purchase_probability"] == pytest.approx(
        arms.loc["EXT_ARM_A", "true_effect_purchase_probability"], abs=1e-6
    )
    # The arms' incremental purchases are recorded as the campaign's.
    orders = pq.read_table(root / "_truth/orders.parquet").to_pandas()
    caused = orders[orders.effect_campaign_id == EXTERNAL_CAMPAIGN_ID]
    assert len(caused) == arms.loc["EXT_ARM_A", "incremental_purchases"] > 0


def test_experiment_has_phone_and_telesales_orders(shapes_root: Path) -> None:
    root = shapes_root / "experiment"
    orders = raw(root, "shop.orders")
    phone = orders[orders.channel.isin(["phone", "telesales"])]
    share = len(phone) / len(orders)
    print(f"phone + telesales share of orders: {share:.3f}")
    assert set(orders.channel) == {"web", "app", "store", "phone", "telesales"}
    assert 0.06 <= share <= 0.16
    assert phone.store_id.isna().all()
    events = raw(root, "web.events")
    confirmed = events.page_url.str.extract(r"order_id=(\w+)")[0].dropna()
    assert not set(confirmed) & set(phone.order_id)
    channels = shape_truth(root)["sales_channels"]
    assert channels["phone"] == (orders.channel == "phone").sum() > 0
    assert channels["telesales"] == (orders.channel == "telesales").sum() > 0


def test_experiment_uses_no_generator_category_name(shapes_root: Path) -> None:
    root = shapes_root / "experiment"
    products = raw(root, "shop.products")
    assert set(products.category) == set(MUSIC_CATEGORIES.values())
    assert not set(products.category) & set(CATEGORIES)
    assert not products.subcategory.isin(CATEGORIES).any()
    pages = raw(root, "web.events").page_url
    assert not pages.str.fullmatch(rf".*/c/({'|'.join(CATEGORIES)})").any()
    # The same products carry the same planted categories, renamed one to one.
    full = raw(shapes_root / "full", "shop.products").set_index("product_id").category
    renamed = full.map(MUSIC_CATEGORIES)
    assert (products.set_index("product_id").category == renamed.loc[products.product_id].to_numpy()).all()


# --- multi_currency ---------------------------------------------------------------------------


def test_multi_currency_orders_and_rates(shapes_root: Path) -> None:
    root = shapes_root / "multi_currency"
    orders = raw(root, "shop.orders")
    counts = orders.currency.value_counts()
    print(f"orders per currency: {counts.to_dict()}")
    assert set(counts.index) == {"EUR", "GBP", "USD"} and counts.idxmax() == "EUR"
    rates = raw(root, "shop.exchange_rates")
    rate_dates = pd.to_datetime(rates.rate_date)
    assert (rate_dates.dt.day == 1).all()
    assert not rates.duplicated(["currency", "rate_date"]).any()
    assert (rates[rates.currency == "EUR"].rate == 1.0).all()
    assert (rates.rate > 0).all()
    needed = set(zip(orders.currency, orders.ordered_at.dt.strftime("%Y-%m"), strict=True))
    have = set(zip(rates.currency, rate_dates.dt.strftime("%Y-%m"), strict=True))
    assert needed <= have
    truth = shape_truth(root)
    assert truth["reporting_currency"] == "EUR" and set(truth["currencies"]) == {"EUR", "GBP", "USD"}
    assert truth["exchange_rates"]["includes_reporting_currency"] is True


def test_multi_currency_converts_back_to_the_planted_value(shapes_root: Path) -> None:
    root = shapes_root / "multi_currency"
    truth = shape_truth(root)
    full = shape_truth(shapes_root / "full")
    # Amounts are the planted EUR amounts divided by the rate and rounded to cents.
    assert truth["revenue"]["total"] == pytest.approx(full["revenue"]["total"], rel=1e-4)
    gbp = truth["currencies"]["GBP"]
    assert gbp["revenue"] != pytest.approx(gbp["revenue_reporting"], rel=0.02)  # summing unconverted is wrong
    lines = raw(root, "shop.order_lines")
    full_lines = raw(shapes_root / "full", "shop.order_lines")
    assert (lines.quantity.to_numpy() == full_lines.quantity.to_numpy()).all()
    assert (lines.discount_amount <= lines.quantity * lines.unit_price + 1e-9).all()


# --- output folder, faults, command line ------------------------------------------------------


def test_regenerating_another_shape_removes_only_the_generators_files(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    generate(GeneratorConfig(customers=300, seed=1, out=out, shape="multi_currency"))
    assert (out / "shop/exchange_rates").is_dir() and (out / "web/events").is_dir()
    generate(GeneratorConfig(customers=300, seed=1, out=out, shape="orders_only"))
    assert written_tables(out) == set(SHAPES["orders_only"].tables)
    assert not (out / "web").exists() and not (out / "crm").exists()
    # A file the generator never recorded is someone else's: it stays, even in a table folder.
    mine = out / "crm/surveys/mine.csv"
    mine.parent.mkdir(parents=True)
    mine.write_text("response_id\n")
    (out / "notes.txt").write_text("mine")
    generate(GeneratorConfig(customers=300, seed=1, out=out, shape="full"))
    generate(GeneratorConfig(customers=300, seed=1, out=out, shape="orders_only"))
    assert not (out / "crm/loyalty_members").exists()  # the full run wrote (and recorded) it
    assert sorted(p.name for p in (out / "crm/surveys").iterdir()) == ["mine.csv"]
    assert (out / "notes.txt").read_text() == "mine"
    (out / "web/events").mkdir(parents=True)
    (out / "web/events/own.parquet").write_bytes(b"x")
    generate(GeneratorConfig(customers=300, seed=1, out=out, shape="orders_only"))
    assert (out / "web/events/own.parquet").exists()


@pytest.mark.parametrize("shape", ["orders_only", "experiment", "multi_currency"])
def test_faults_on_a_shape_stay_in_its_tables(shapes_root: Path, tmp_path: Path, shape: str) -> None:
    out = tmp_path / shape
    generate(GeneratorConfig(customers=CUSTOMERS, seed=SEED, out=out, shape=shape, faults=True))
    assert written_tables(out) == set(SHAPES[shape].tables)
    faults = pq.read_table(out / "_truth/faults.parquet").to_pandas()
    assert set(faults.source + "." + faults.table_name) <= set(SHAPES[shape].tables)
    assert (faults.fault_kind == "duplicate").any()
    # The truth describes the clean rows: identical with and without faults.
    assert shape_truth(out) == shape_truth(shapes_root / shape)
    if shape == "orders_only":
        ordered_at = raw(out, "shop.orders").ordered_at
        assert ordered_at.str.fullmatch(DATE_ONLY).mean() > 0.95


def test_shapes_are_deterministic(shapes_root: Path, tmp_path: Path) -> None:
    for shape in ("orders_only", "experiment", "multi_currency"):
        generate(
            GeneratorConfig(customers=CUSTOMERS, seed=SEED, out=tmp_path / shape, shape=shape, workers=1)
        )
        assert file_hashes(tmp_path / shape) == file_hashes(shapes_root / shape), shape


@pytest.mark.slow
def test_shapes_do_not_depend_on_chunks_or_workers(tmp_path: Path) -> None:
    """Several chunks on two worker processes give the files of one worker (experiment, multi_currency)."""
    for shape in ("experiment", "multi_currency"):
        runs = {workers: tmp_path / f"{shape}-{workers}" for workers in (1, 2)}
        for workers, out in runs.items():
            generate(
                GeneratorConfig(
                    customers=2_500, seed=4, out=out, shape=shape, chunk_size=1_000, workers=workers
                )
            )
        assert file_hashes(runs[1]) == file_hashes(runs[2]), shape


def test_command_line_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = ["--customers", "300", "--seed", "2", "--out", str(out), "--quiet", "--format", "csv"]
    assert main([*args, "--shape", "orders_only"]) == 0
    assert written_tables(out) == set(SHAPES["orders_only"].tables)
    header = (out / "shop/orders/part-00000.csv").read_text().splitlines()[1].split(",")
    assert header[5].strip('"') and len(header[5].strip('"')) == 10
    assert main([*args, "--shape", "multi_currency"]) == 0
    rates = (out / "shop/exchange_rates/part-00000.csv").read_text().splitlines()
    assert rates[0].replace('"', "") == "currency,rate_date,rate"
    with pytest.raises(SystemExit):
        main([*args, "--shape", "bank"])
    with pytest.raises(ValueError, match="unknown shape"):
        GeneratorConfig(customers=10, seed=1, out=tmp_path, shape="bank")


def test_full_shape_summary_counts_absent_tables_as_zero(tmp_path: Path) -> None:
    summary = generate(GeneratorConfig(customers=300, seed=3, out=tmp_path / "full"))
    assert "shop.exchange_rates" not in summary.rows and summary.rows["shop.exchange_rates"] == 0
    assert summary.shape == "full"
    with pytest.raises(KeyError):
        summary.rows["shop.nothing"]
    assert np.isclose(sum(summary.rows.values()), sum(summary.files.values()))
