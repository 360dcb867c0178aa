"""Tests of the sample-data generator: shape, determinism, planted truth and planted faults."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from scipy import integrate, stats

from orchestration.contract import raw_table
from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.devtools.sample_data.cli import build_parser, main
from orchestration.devtools.sample_data.config import RCT_CAMPAIGNS, SEGMENTS, BgNbdParams, GammaGammaParams
from orchestration.devtools.sample_data.faults import (
    ACCOUNT_REFERENCES,
    DRIFT_COLUMNS,
    PLANS,
    STRING_COLUMNS_UNDER_FAULTS,
)
from orchestration.devtools.sample_data.shapes import SHAPES

# The full shape writes every contract table but the optional shop.exchange_rates.
RAW_TABLES = SHAPES["full"].raw_tables

ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def part_files(root: Path, qualified: str) -> list[Path]:
    source, name = qualified.split(".")
    return sorted((root / source / name).glob("part-*"))


def read_raw(root: Path, qualified: str) -> pa.Table:
    """All parts of a raw table (main and late) as one table."""
    return pa.concat_tables([pq.read_table(p) for p in part_files(root, qualified)])


def read_truth(root: Path, name: str) -> pd.DataFrame:
    return pq.read_table(root / "_truth" / f"{name}.parquet").to_pandas()


def identifier_owner(root: Path) -> dict[tuple[str, str], str]:
    persons = read_truth(root, "persons")
    return dict(
        zip(
            zip(persons.identifier_type, persons.identifier_value, strict=True),
            persons.person_id,
            strict=True,
        )
    )


def order_owners(root: Path) -> pd.DataFrame:
    """All orders with the person who placed them, resolved from the raw identifiers."""
    owner = identifier_owner(root)
    orders = read_raw(root, "shop.orders").to_pandas()
    email = orders.email.str.strip().str.lower()
    by_account = [owner.get(("customer_id", c)) if isinstance(c, str) else None for c in orders.customer_id]
    by_email = [owner.get(("email", e)) if isinstance(e, str) else None for e in email]
    orders["person_id"] = [a or b for a, b in zip(by_account, by_email, strict=True)]
    return orders


# --- shape ------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: t.qualified_name)
def test_clean_tables_match_the_contract(clean_raw: Path, table) -> None:
    files = part_files(clean_raw, table.qualified_name)
    assert [f.name for f in files] == ["part-00000.parquet"]
    schema = pq.read_schema(files[0])
    assert schema.names == table.column_names
    assert [schema.field(c.name).type for c in table.columns] == [
        ARROW[c.logical_type] for c in table.columns
    ]
    assert pq.read_metadata(files[0]).num_rows > 0


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: t.qualified_name)
def test_faulty_tables_match_the_contract_plus_drift(faulty_raw: Path, table) -> None:
    expected = table.column_names + (
        [DRIFT_COLUMNS[table.qualified_name]] if table.qualified_name in DRIFT_COLUMNS else []
    )
    as_text = STRING_COLUMNS_UNDER_FAULTS.get(table.qualified_name, ())
    for path in part_files(faulty_raw, table.qualified_name):
        schema = pq.read_schema(path)
        assert schema.names == expected, path
        for col in table.columns:
            want = pa.string() if col.name in as_text else ARROW[col.logical_type]
            assert schema.field(col.name).type == want, (path, col.name)


def test_layout_and_truth_files(faulty_raw: Path) -> None:
    truth = faulty_raw / "_truth"
    for name in ("persons", "segments", "person_parameters", "faults", "treatment_effects",
                 "assignment_outcomes", "loyalty_effect"):  # fmt: skip
        assert (truth / f"{name}.parquet").exists()
    assert (truth / "purchase_process.json").exists() and (truth / "manifest.json").exists()
    for qualified in ("shop.orders", "shop.order_lines", "web.events"):
        names = [p.name for p in part_files(faulty_raw, qualified)]
        assert names == ["part-00000.parquet", "part-00001-late.parquet"]
    manifest = json.loads((truth / "manifest.json").read_text())
    for rel, rows in manifest["files"].items():
        assert pq.read_metadata(faulty_raw / rel).num_rows == rows
    effects = read_truth(faulty_raw, "treatment_effects")
    overall = effects[effects.level == "campaign"].set_index("campaign_id")
    assert list(overall.index) == [c.campaign_id for c in RCT_CAMPAIGNS]
    assert overall.loc["RCT-04", "true_effect_purchase_probability"] == 0  # NEWSLETTER: zero planted
    assert (overall.drop(index="RCT-04").true_effect_purchase_probability > 0).all()


# --- determinism ------------------------------------------------------------------------------


def _file_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_identical_files(faulty_raw: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(GeneratorConfig(customers=500, seed=7, out=again, faults=True))
    assert _file_bytes(again) == _file_bytes(faulty_raw)


def test_other_seed_gives_other_data(clean_raw: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(GeneratorConfig(customers=500, seed=8, out=other))
    assert (other / "shop/orders/part-00000.parquet").read_bytes() != (
        clean_raw / "shop/orders/part-00000.parquet"
    ).read_bytes()


def test_faults_leave_the_truth_unchanged(clean_raw: Path, faulty_raw: Path) -> None:
    for name in ("segments", "person_parameters", "orders", "assignment_outcomes", "loyalty_effect",
                 "treatment_effects"):  # fmt: skip
        pd.testing.assert_frame_equal(read_truth(clean_raw, name), read_truth(faulty_raw, name))


def test_rerun_clears_only_owned_folders(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    generate(GeneratorConfig(customers=200, seed=1, out=out, faults=True))
    (out / "keep.txt").write_text("mine")
    generate(GeneratorConfig(customers=200, seed=1, out=out))
    assert (out / "keep.txt").read_text() == "mine"
    assert not (out / "shop/orders/part-00001-late.parquet").exists()


# --- planted truth ----------------------------------------------------------------------------


def test_every_raw_identifier_is_in_the_truth(clean_raw: Path) -> None:
    persons = read_truth(clean_raw, "persons")
    known = {t: set(g.identifier_value) for t, g in persons.groupby("identifier_type")}
    customers = read_raw(clean_raw, "shop.customers")
    account_ids = set(customers.column("customer_id").to_pylist())
    assert account_ids <= known["customer_id"]
    for qualified, column in ACCOUNT_REFERENCES.items():
        used = set(read_raw(clean_raw, qualified).column(column).drop_null().to_pylist())
        assert used <= account_ids, qualified
    emails = pa.chunked_array([customers.column("email"), read_raw(clean_raw, "shop.orders").column("email")])
    normalised = pc.utf8_lower(pc.utf8_trim(emails.drop_null(), characters=" "))
    assert set(normalised.to_pylist()) <= known["email"]
    phones = pc.replace_substring_regex(
        customers.column("phone").drop_null(), pattern="[^0-9]", replacement=""
    )
    assert set(phones.to_pylist()) <= known["phone"]
    assert set(read_raw(clean_raw, "web.events").column("anonymous_id").to_pylist()) <= known["anonymous_id"]
    assert (
        set(read_raw(clean_raw, "crm.loyalty_members").column("member_id").to_pylist()) <= known["member_id"]
    )
    assert not persons.is_placeholder.any()


def test_identity_puzzles_are_planted(clean_raw: Path) -> None:
    persons = read_truth(clean_raw, "persons")
    accounts = persons[persons.identifier_type == "customer_id"].groupby("person_id").size()
    assert (accounts == 2).sum() >= 5  # second accounts
    cookies = persons[persons.identifier_type == "anonymous_id"]
    assert cookies.is_shared.any()
    assert (cookies.groupby("identifier_value").person_id.nunique() > 1).sum() == cookies[
        cookies.is_shared
    ].identifier_value.nunique()
    emails = read_raw(clean_raw, "shop.customers").column("email").to_pylist()
    assert any(e != e.strip().lower() for e in emails)  # case and whitespace variants
    phones = read_raw(clean_raw, "shop.customers").column("phone").drop_null().to_pylist()
    assert all(p.startswith(("+", "(+")) for p in phones)


def test_purchase_occasions_match_the_process(clean_raw: Path) -> None:
    orders = order_owners(clean_raw)
    assert orders.person_id.notna().all()
    purchases = orders[orders.status != "cancelled"].groupby("person_id").size()
    params = read_truth(clean_raw, "person_parameters").set_index("person_id")
    buyers = params[params.person_type.isin(["registered_buyer", "guest_buyer"])]
    # The planted effects add purchases on top of the BG/NBD process; the truth counts both.
    expected = buyers.n_repeat_purchases.astype(int) + 1 + buyers.n_incremental_purchases.astype(int)
    assert purchases.reindex(expected.index, fill_value=0).equals(expected)
    assert set(purchases.index) == set(buyers.index)
    truth = read_truth(clean_raw, "orders")
    baseline = truth[truth.purchase_source == "baseline"].groupby("person_id").size()
    assert baseline.reindex(buyers.index, fill_value=0).equals(buyers.n_repeat_purchases.astype(int) + 1)
    assert (truth.purchase_source.isna() == ~truth.is_purchase_occasion).all()
    first = orders[orders.status != "cancelled"].groupby("person_id").ordered_at.min()
    assert (first.reindex(buyers.index) == buyers.acquired_at).all()


def test_order_revenue_is_the_planted_value(clean_raw: Path) -> None:
    lines = read_raw(clean_raw, "shop.order_lines").to_pandas()
    gross = lines.quantity * lines.unit_price
    assert (lines.discount_amount >= 0).all() and (lines.discount_amount <= gross + 1e-9).all()
    assert (lines.quantity > 0).all()
    assert not lines.duplicated(["order_id", "product_id"]).any()  # returns name order + product only
    net = (gross - lines.discount_amount).groupby(lines.order_id).sum()
    truth = read_truth(clean_raw, "orders").set_index("order_id").net_revenue
    assert np.allclose(net.reindex(truth.index), truth, atol=0.005)
    returns = read_raw(clean_raw, "shop.returns").to_pandas().merge(lines, on=["order_id", "product_id"])
    assert len(returns) == read_raw(clean_raw, "shop.returns").num_rows
    assert (returns.quantity_x <= returns.quantity_y).all()
    line_net = returns.quantity_y * returns.unit_price - returns.discount_amount
    assert (returns.refund_amount <= line_net + 0.005).all() and (returns.refund_amount >= 0).all()


def test_recorded_parameters_equal_the_config(clean_raw: Path) -> None:
    process = json.loads((clean_raw / "_truth/purchase_process.json").read_text())
    bg, gg = BgNbdParams(), GammaGammaParams()
    assert process["bg_nbd"] == {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b}
    assert process["gamma_gamma"] == {"p": gg.p, "q": gg.q, "gamma": gg.gamma}
    assert process["time_unit"] == "day" and process["seed"] == 7
    assert process["observation_end"].startswith("2026-09-30T00:00:00")
    params = read_truth(clean_raw, "person_parameters")
    buyer = params.person_type.isin(["registered_buyer", "guest_buyer"])
    assert params.loc[buyer, "purchase_rate_per_day"].notna().all()
    assert (
        params.loc[~buyer, ["purchase_rate_per_day", "dropout_probability", "mean_spend"]].isna().all().all()
    )
    assert np.allclose(params.loc[buyer, "mean_spend"], gg.p / params.loc[buyer, "spend_nu"])
    assert (params.loc[buyer, "dropout_at"].isna() == params.loc[buyer, "is_alive_at_end"].astype(bool)).all()
    segments = read_truth(clean_raw, "segments")
    assert set(segments.segment_id) == {s.segment_id for s in SEGMENTS} and len(segments) == len(params)


def test_everything_happens_inside_the_window(clean_raw: Path) -> None:
    process = json.loads((clean_raw / "_truth/purchase_process.json").read_text())
    start, end = pd.Timestamp(process["observation_start"]), pd.Timestamp(process["observation_end"])
    for table in RAW_TABLES:
        data = read_raw(clean_raw, table.qualified_name)
        for col in table.columns:
            if col.logical_type == "timestamp":
                values = data.column(col.name).drop_null().to_pandas()
                assert values.min() >= start and values.max() < end, (table.qualified_name, col.name)


def _expected_repeats(bg: BgNbdParams, horizon: float) -> float:
    """E[repeats] for a buyer with t0 ~ U(0, horizon - 1): E_p[(1 - (alpha / (alpha + p t))^r) / p]."""

    def given_t(t: float) -> float:
        def integrand(p: float) -> float:
            return (1 - (bg.alpha / (bg.alpha + p * t)) ** bg.r) / p * stats.beta.pdf(p, bg.a, bg.b)

        return integrate.quad(integrand, 0, 1, limit=200)[0]

    return integrate.quad(given_t, 1.0, horizon, limit=200)[0] / (horizon - 1.0)


def test_bg_nbd_and_gamma_gamma_are_plausible(medium_raw: Path) -> None:
    params = read_truth(medium_raw, "person_parameters")
    buyers = params[params.person_type.isin(["registered_buyer", "guest_buyer"])]
    expected = _expected_repeats(BgNbdParams(), 1095.0)
    assert buyers.n_repeat_purchases.mean() == pytest.approx(expected, rel=0.12)
    orders = read_truth(medium_raw, "orders")
    gg = GammaGammaParams()
    assert orders[orders.is_purchase_occasion].net_revenue.mean() == pytest.approx(
        gg.p * gg.gamma / (gg.q - 1), rel=0.12
    )
    cancelled = (~orders.is_purchase_occasion).mean()
    assert 0.01 < cancelled < 0.03


def test_segments_have_distinct_category_mixes(medium_raw: Path) -> None:
    lines = read_raw(medium_raw, "shop.order_lines").to_pandas()
    products = read_raw(medium_raw, "shop.products").to_pandas()[["product_id", "category"]]
    owners = read_truth(medium_raw, "orders")[["order_id", "person_id"]]
    segments = read_truth(medium_raw, "segments")[["person_id", "segment_name"]]
    data = lines.merge(products, on="product_id").merge(owners, on="order_id").merge(segments, on="person_id")
    mix = pd.crosstab(data.segment_name, data.category, normalize="index")
    top = mix.idxmax(axis=1)
    assert top.nunique() == len(SEGMENTS), mix
    assert (mix.max(axis=1) > 0.25).all()
    returns = (
        read_raw(medium_raw, "shop.returns")
        .to_pandas()
        .merge(owners, on="order_id")
        .merge(segments, on="person_id")
    )
    assert returns.segment_name.value_counts().idxmax() == "style_seekers"


# --- faults -----------------------------------------------------------------------------------


def _faults(root: Path) -> pd.DataFrame:
    return read_truth(root, "faults")


def test_no_faults_without_the_flag(clean_raw: Path) -> None:
    assert _faults(clean_raw).empty


def test_every_planned_fault_is_planted(faulty_raw: Path) -> None:
    faults = _faults(faulty_raw)
    counts = (
        faults.fillna({"column_name": ""})
        .groupby(["source", "table_name", "fault_kind", "column_name"])
        .size()
    )
    for qualified, plan in PLANS.items():
        source, name = qualified.split(".")
        for kind, column, _ in plan:
            assert counts.get((source, name, kind, column or ""), 0) >= 2, (qualified, kind, column)
    for qualified, column in DRIFT_COLUMNS.items():
        source, name = qualified.split(".")
        row = faults[(faults.table_name == name) & (faults.fault_kind == "unknown_column")]
        assert list(row.column_name) == [column] and row.row_key.isna().all()
    assert set(faults.fault_kind) >= {"late_arriving", "bad_encoding", "placeholder_identifier"}


def test_fault_records_point_at_real_rows(faulty_raw: Path) -> None:
    faults = _faults(faulty_raw)
    for table in RAW_TABLES:
        recorded = faults[
            (faults.source == table.source) & (faults.table_name == table.name) & faults.row_key.notna()
        ]
        if recorded.empty:
            continue
        data = read_raw(faulty_raw, table.qualified_name)
        keys = []
        for col in table.key:
            arr = data.column(col)
            if pa.types.is_timestamp(arr.type):
                arr = pc.strftime(arr.cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%d %H:%M:%S")
            keys.append(arr.cast(pa.string()))
        present = set(pc.binary_join_element_wise(*keys, "|").drop_null().to_pylist())
        missing = set(recorded.row_key) - present
        assert not missing, (table.qualified_name, sorted(missing)[:5])


def test_duplicates_are_exact_copies(faulty_raw: Path) -> None:
    faults = _faults(faulty_raw)
    for table in RAW_TABLES:
        dups = faults[(faults.table_name == table.name) & (faults.fault_kind == "duplicate")]
        frame = read_raw(faulty_raw, table.qualified_name).to_pandas()
        exact = frame[frame.duplicated(keep=False)]
        assert len(exact) >= 2 * len(dups) > 0, table.qualified_name


def test_null_keys_and_late_rows(faulty_raw: Path) -> None:
    faults = _faults(faulty_raw)
    for (source, name, column), n in (
        faults[faults.fault_kind == "null_key"]
        .groupby(["source", "table_name", "column_name"])
        .size()
        .items()
    ):
        data = read_raw(faulty_raw, f"{source}.{name}")
        assert data.column(column).null_count == n, (name, column)
    for qualified in ("shop.orders", "shop.order_lines", "web.events"):
        source, name = qualified.split(".")
        late = pq.read_table(part_files(faulty_raw, qualified)[1])
        recorded = faults[(faults.table_name == name) & (faults.fault_kind == "late_arriving")]
        assert late.num_rows == len(recorded) > 0
        assert recorded.expected_reason.isna().all()


def test_fault_values_look_broken(faulty_raw: Path) -> None:
    orders = read_raw(faulty_raw, "shop.orders").column("ordered_at").to_pylist()
    assert {"not-a-date", "31/02/2024", "n/a"} & set(orders)
    assert any(v.startswith("2099-") for v in orders)
    assert any(len(v) == 25 and v[10] == "T" and v[19] in "+-" for v in orders)  # explicit offsets
    names = read_raw(faulty_raw, "shop.customers").to_pandas()
    assert names[["first_name", "last_name", "city"]].apply(lambda c: c.str.contains("Ã")).any().any()
    persons = read_truth(faulty_raw, "persons")
    placeholders = set(persons[persons.is_placeholder].identifier_value)
    assert placeholders == {"test@test.com", "0000000000", "noemail@example.com"}
    nps = read_raw(faulty_raw, "crm.surveys").column("nps_score").to_pylist()
    assert {"11", "-1"} & set(nps)
    lines = read_raw(faulty_raw, "shop.order_lines").to_pandas()
    assert (lines.unit_price < 0).any() and lines.quantity.str.startswith("-").any()


# --- formats, command line, scale ---------------------------------------------------------------


def test_csv_output(tmp_path: Path) -> None:
    out = tmp_path / "csv"
    summary = generate(GeneratorConfig(customers=300, seed=3, out=out, faults=True, file_format="csv"))
    for table in RAW_TABLES:
        path = out / table.source / table.name / "part-00000.csv"
        header = path.read_text(encoding="utf-8").splitlines()[0]
        drift = [DRIFT_COLUMNS[table.qualified_name]] if table.qualified_name in DRIFT_COLUMNS else []
        assert header.replace('"', "").split(",") == table.column_names + drift
    events = pacsv.read_csv(out / "web/events/part-00000.csv", convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in raw_table("web", "events").column_names}))  # fmt: skip
    sent = pacsv.read_csv(out / "marketing/communications/part-00000.csv").column("sent_at").to_pylist()
    assert all(len(str(s)) == 19 for s in sent[:50])
    assert (
        events.num_rows + pacsv.read_csv(out / "web/events/part-00001-late.csv").num_rows
        == summary.rows["web.events"]
    )
    assert (out / "_truth/persons.parquet").exists()


def test_command_line(tmp_path: Path) -> None:
    help_text = build_parser().format_help()
    assert "guest-only buyers" in help_text and "anonymous-only" in help_text
    assert main(["--customers", "100", "--seed", "5", "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    assert (tmp_path / "cli/shop/customers/part-00000.parquet").exists()


@pytest.mark.slow
def test_rows_grow_linearly_with_customers(tmp_path: Path) -> None:
    small = generate(GeneratorConfig(customers=2_000, seed=5, out=tmp_path / "small"))
    large = generate(GeneratorConfig(customers=20_000, seed=5, out=tmp_path / "large", chunk_size=5_000))
    for name, rows in small.rows.items():
        if name != "shop.products":
            assert large.rows[name] / rows == pytest.approx(10, rel=0.25), name
    assert large.persons["registered_buyer"] + large.persons["prospect"] == 20_000
