"""End to end: generate raw data with every fault kind, build staging with dbt,
and hold the staging layer to its promises against the generator's truth:
no raw row lost, every planted fault refused for its reason, clean rows kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from orchestration.contract import RAW_TABLES
from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.slow

# Erasure requests are read by the build but never stored (docs/privacy.md): no staging model.
STAGED_TABLES = tuple(t for t in RAW_TABLES if t.staged)
STAGING_MODEL = {t.qualified_name: f"stg_{t.source}__{t.name}" for t in STAGED_TABLES}
# Reasons that follow from another row's fault rather than the row's own;
# an order line also waits in quarantine while its order is after the as-of date.
KNOCK_ON_REASONS = {"orphan_reference", "parent_quarantined"}
KNOCK_ON_BY_TABLE = {"order_lines": {"after_as_of"}}


def _build(workspace: DbtWorkspace) -> None:
    # Staging and its own tests only; cautious leaves out tests that also read later layers.
    result = run_dbt(
        ["build", "--select", "+path:models/staging +path:models/audit", "--indirect-selection", "cautious"],
        workspace,
    )
    assert result.returncode == 0, result.stdout[-6000:]


def _raw_row_count(raw_path: Path, source: str, table: str, file_format: str) -> int:
    """Rows in a raw table's files; 0 for an optional table the data does not provide."""
    files = sorted((raw_path / source / table).glob(f"*.{file_format}"))
    if file_format == "parquet":
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return sum(pacsv.read_csv(f).num_rows for f in files)


def _normalise_key(key: pd.Series) -> pd.Series:
    """DuckDB writes a typed UTC timestamp in a key as '...+00'; the truth writes it bare."""
    return key.str.replace(r"\+00(:00)?(?=\||$)", "", regex=True)


def _query(workspace: DbtWorkspace, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as connection:
        return connection.execute(sql).df()


@pytest.fixture(scope="module")
def faulty_build(tmp_path_factory: pytest.TempPathFactory) -> DbtWorkspace:
    root = tmp_path_factory.mktemp("faulty")
    generate(GeneratorConfig(customers=400, seed=11, out=root / "raw", faults=True))
    workspace = DbtWorkspace(root / "raw", root / "warehouse.duckdb", root / "dbt")
    _build(workspace)
    return workspace


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory: pytest.TempPathFactory) -> DbtWorkspace:
    root = tmp_path_factory.mktemp("clean")
    generate(GeneratorConfig(customers=300, seed=5, out=root / "raw", faults=False))
    workspace = DbtWorkspace(root / "raw", root / "warehouse.duckdb", root / "dbt")
    _build(workspace)
    return workspace


@pytest.mark.parametrize("raw_table", [t.qualified_name for t in STAGED_TABLES])
def test_no_raw_row_is_lost(faulty_build: DbtWorkspace, raw_table: str) -> None:
    """raw rows = staged rows + quarantined rows, counted from the files themselves."""
    source, table = raw_table.split(".")
    raw_rows = _raw_row_count(faulty_build.raw_path, source, table, "parquet")
    staged = _query(faulty_build, f"select count(*) as n from staging.{STAGING_MODEL[raw_table]}").n[0]
    quarantined = _query(
        faulty_build,
        "select count(*) as n from audit.audit__quarantine "
        f"where source_name = '{source}' and table_name = '{table}'",
    ).n[0]
    print(f"{raw_table}: raw={raw_rows} staged={staged} quarantined={quarantined}")
    assert raw_rows == staged + quarantined
    provided = (faulty_build.raw_path / source / table).is_dir()
    assert (staged > 0) == provided


def test_reconciliation_model_agrees(faulty_build: DbtWorkspace) -> None:
    reconciliation = _query(faulty_build, "select * from audit.audit__row_reconciliation")
    assert len(reconciliation) == len(STAGED_TABLES)
    assert reconciliation.is_balanced.all()


def test_every_planted_fault_is_quarantined_for_its_reason(faulty_build: DbtWorkspace) -> None:
    faults = pd.read_parquet(faulty_build.raw_path / "_truth" / "faults.parquet")
    quarantine = _query(
        faulty_build, "select table_name, raw_key, quarantine_reason from audit.audit__quarantine"
    )
    quarantine["raw_key"] = _normalise_key(quarantine.raw_key)
    row_faults = faults[faults.expected_reason.notna()]
    assert not row_faults.empty
    keyed = row_faults[row_faults.row_key.notna() & (row_faults.expected_reason != "duplicate")]
    found = keyed.merge(
        quarantine,
        left_on=["table_name", "row_key", "expected_reason"],
        right_on=["table_name", "raw_key", "quarantine_reason"],
        how="left",
        indicator=True,
    )
    missing = found[found["_merge"] == "left_only"]
    assert missing.empty, f"planted faults not quarantined as expected:\n{missing.head(20)}"

    # Null keys and exact copies cannot be matched by key: compare counts.
    for reason in ("null_key", "duplicate"):
        planted = row_faults[row_faults.expected_reason == reason].groupby("table_name").size()
        seen = quarantine[quarantine.quarantine_reason == reason].groupby("table_name").size()
        for table_name, count in planted.items():
            assert seen.get(table_name, 0) >= count, f"{table_name}: {reason} planted {count}"


def test_quarantine_holds_only_planted_reasons_or_their_knock_on(faulty_build: DbtWorkspace) -> None:
    faults = pd.read_parquet(faulty_build.raw_path / "_truth" / "faults.parquet")
    planted = faults.dropna(subset=["expected_reason"]).groupby("table_name").expected_reason.agg(set)
    quarantine = _query(faulty_build, "select table_name, quarantine_reason from audit.audit__quarantine")
    for table_name, reasons in quarantine.groupby("table_name").quarantine_reason.agg(set).items():
        expected = (
            planted.get(table_name, set()) | KNOCK_ON_REASONS | KNOCK_ON_BY_TABLE.get(table_name, set())
        )
        unexpected = reasons - expected
        assert not unexpected, f"{table_name}: rows quarantined for unplanted reasons {unexpected}"


def test_clean_data_is_staged_whole(clean_build: DbtWorkspace) -> None:
    quarantined = _query(clean_build, "select count(*) as n from audit.audit__quarantine").n[0]
    assert quarantined == 0
    for t in STAGED_TABLES:
        raw_rows = _raw_row_count(clean_build.raw_path, t.source, t.name, "parquet")
        staged = _query(
            clean_build, f"select count(*) as n from staging.{STAGING_MODEL[t.qualified_name]}"
        ).n[0]
        assert raw_rows == staged, t.qualified_name


def test_late_arriving_rows_are_staged(faulty_build: DbtWorkspace) -> None:
    late_files = sorted(faulty_build.raw_path.glob("shop/orders/*late*.parquet"))
    assert late_files, "the generator planted no late-arriving orders"
    late_ids = set(
        pd.concat([pd.read_parquet(f, columns=["order_id"]) for f in late_files]).order_id.dropna()
    )
    staged = set(_query(faulty_build, "select order_id from staging.stg_shop__orders").order_id)
    faults = pd.read_parquet(faulty_build.raw_path / "_truth" / "faults.parquet")
    refused = set(faults[(faults.table_name == "orders") & faults.expected_reason.notna()].row_key)
    assert late_ids - refused <= staged


def test_unknown_columns_are_ignored_and_reported(faulty_build: DbtWorkspace) -> None:
    unknown = _query(
        faulty_build,
        "select distinct source_name || '.' || table_name as raw_table, column_name "
        "from audit.audit__raw_schema where column_status = 'unknown'",
    )
    assert {("shop.orders", "legacy_channel_code"), ("web.events", "ip_address")} <= set(
        map(tuple, unknown[["raw_table", "column_name"]].to_numpy())
    )
    columns = _query(faulty_build, "describe staging.stg_shop__orders").column_name
    assert "legacy_channel_code" not in set(columns)


def test_timestamps_with_offsets_land_in_utc(faulty_build: DbtWorkspace) -> None:
    raw = pd.concat(
        pd.read_parquet(f, columns=["order_id", "ordered_at"])
        for f in sorted(faulty_build.raw_path.glob("shop/orders/*.parquet"))
    )
    with_offset = raw[raw.ordered_at.astype(str).str.contains(r"[+-]\d\d:\d\d$", regex=True, na=False)]
    assert not with_offset.empty, "the generator wrote no timestamps with offsets"
    expected = pd.to_datetime(with_offset.ordered_at, utc=True, format="ISO8601").dt.tz_localize(None)
    staged = _query(faulty_build, "select order_id, ordered_at from staging.stg_shop__orders").set_index(
        "order_id"
    )
    matched = with_offset.assign(expected=expected.to_numpy()).merge(
        staged, left_on="order_id", right_index=True, suffixes=("", "_staged")
    )
    matched = matched.dropna(subset=["ordered_at_staged"])
    assert not matched.empty
    assert (matched.expected == matched.ordered_at_staged).all()


def test_contact_details_are_normalised(faulty_build: DbtWorkspace) -> None:
    customers = _query(faulty_build, "select email, phone from staging.stg_shop__customers")
    emails = customers.email.dropna()
    assert (emails == emails.str.strip().str.lower()).all()
    assert customers.phone.dropna().str.fullmatch(r"\d+").all()
    truth = pd.read_parquet(faulty_build.raw_path / "_truth" / "persons.parquet")
    truth_emails = set(truth[truth.identifier_type == "email"].identifier_value)
    assert set(emails) <= truth_emails | {"test@test.com"}


def test_broken_encoding_is_flagged(faulty_build: DbtWorkspace) -> None:
    flagged = _query(
        faulty_build, "select count(*) as n from staging.stg_shop__customers where has_encoding_issue"
    ).n[0]
    assert flagged > 0


def test_staging_is_deterministic(clean_build: DbtWorkspace, tmp_path: Path) -> None:
    again = DbtWorkspace(clean_build.raw_path, tmp_path / "again.duckdb", tmp_path / "dbt")
    _build(again)
    for relation in (
        "staging.stg_shop__customers",
        "staging.stg_shop__orders",
        "staging.stg_web__events",
        "audit.audit__as_of",
    ):
        first = _query(clean_build, f"select * from {relation} order by all")
        second = _query(again, f"select * from {relation} order by all")
        pd.testing.assert_frame_equal(first, second)


def test_missing_required_column_fails_naming_file_and_column(
    clean_build: DbtWorkspace, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(clean_build.raw_path, raw)
    orders_file = sorted((raw / "shop" / "orders").glob("*.parquet"))[0]
    pq.write_table(pq.read_table(orders_file).drop_columns(["status"]), orders_file)
    broken = DbtWorkspace(raw, tmp_path / "broken.duckdb", tmp_path / "dbt")
    result = run_dbt(["run", "--select", "base_shop__orders_parsed"], broken)
    assert result.returncode != 0
    assert "missing required column(s): status" in result.stdout
    assert str(orders_file) in result.stdout


def test_csv_raw_files_build_the_same_way(tmp_path: Path) -> None:
    generate(GeneratorConfig(customers=150, seed=3, out=tmp_path / "raw", faults=True, file_format="csv"))
    workspace = DbtWorkspace(tmp_path / "raw", tmp_path / "csv.duckdb", tmp_path / "dbt", file_format="csv")
    _build(workspace)
    for t in STAGED_TABLES:
        raw_rows = _raw_row_count(workspace.raw_path, t.source, t.name, "csv")
        staged = _query(workspace, f"select count(*) as n from staging.{STAGING_MODEL[t.qualified_name]}").n[
            0
        ]
        quarantined = _query(
            workspace,
            "select count(*) as n from audit.audit__quarantine "
            f"where source_name = '{t.source}' and table_name = '{t.name}'",
        ).n[0]
        assert raw_rows == staged + quarantined, t.qualified_name


def test_optional_tables_not_provided_stage_empty(faulty_build: DbtWorkspace) -> None:
    """The full shape has no shop.exchange_rates: it stages empty and the audit says so."""
    sources = _query(faulty_build, "select * from audit.audit__source_tables").set_index("raw_table")
    print(sources[["is_core", "is_provided", "files_count", "raw_rows"]])
    assert not sources.loc["shop.exchange_rates", "is_provided"]
    assert sources.loc["shop.exchange_rates", "raw_rows"] == 0
    assert sources.drop(index="shop.exchange_rates").is_provided.all()
    assert set(sources[sources.is_core].index) == {"shop.customers", "shop.orders"}


def test_a_build_without_accounts_or_orders_fails_naming_them(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "web" / "events").mkdir(parents=True)
    broken = DbtWorkspace(raw, tmp_path / "empty.duckdb", tmp_path / "dbt")
    result = run_dbt(["run", "--select", "base_shop__customers", "--vars", "{as_of: '2026-01-31'}"], broken)
    assert result.returncode != 0
    assert "neither shop.customers nor shop.orders" in result.stdout


@pytest.fixture(scope="module")
def misread_build(clean_build: DbtWorkspace, tmp_path_factory: pytest.TempPathFactory) -> DbtWorkspace:
    """Clean raw data with two exports that a careless reader would misread, built once:
    a late orders file whose customer_id is typed as an integer (the other files hold text),
    and five order lines with a fractional quantity."""
    root = tmp_path_factory.mktemp("misread")
    raw = root / "raw"
    shutil.copytree(clean_build.raw_path, raw)
    orders_file = sorted((raw / "shop" / "orders").glob("*.parquet"))[0]
    late = pq.read_table(orders_file).slice(0, 1).to_pandas()
    late["order_id"] = "LATE-TYPED-1"
    late["customer_id"] = 42
    pq.write_table(
        pa.Table.from_pandas(late, preserve_index=False), raw / "shop" / "orders" / "part-late-typed.parquet"
    )
    lines_file = sorted((raw / "shop" / "order_lines").glob("*.parquet"))[0]
    lines = pq.read_table(lines_file).to_pandas()
    lines["quantity"] = lines["quantity"].astype(str)
    lines.loc[lines.index[:5], "quantity"] = "1.5"
    pq.write_table(pa.Table.from_pandas(lines, preserve_index=False), lines_file)
    workspace = DbtWorkspace(raw, root / "warehouse.duckdb", root / "dbt")
    _build(workspace)
    return workspace


def test_ids_typed_differently_across_files_are_read_as_text_and_flagged(
    clean_build: DbtWorkspace, misread_build: DbtWorkspace
) -> None:
    """No value is cast to a number (text ids keep their form) and the raw schema flags the
    column whose physical type differs between files."""
    flagged = _query(
        misread_build,
        "select distinct column_name, physical_type from audit.audit__raw_schema "
        "where table_name = 'orders' and has_type_conflict",
    )
    print(flagged)
    assert set(flagged.column_name) == {"customer_id"}
    raw_ids = _query(misread_build, "select order_id, raw_customer_id from staging.base_shop__orders")
    raw_ids = raw_ids.set_index("order_id").raw_customer_id
    assert raw_ids["LATE-TYPED-1"] == "42"
    orders_file = sorted((clean_build.raw_path / "shop" / "orders").glob("*.parquet"))[0]
    text_ids = pq.read_table(orders_file).to_pandas().set_index("order_id").customer_id.dropna()
    assert (raw_ids.reindex(text_ids.index) == text_ids).all()


def test_fractional_quantities_are_refused_not_rounded(misread_build: DbtWorkspace) -> None:
    refused = _query(
        misread_build,
        "select count(*) as n from audit.audit__quarantine "
        "where table_name = 'order_lines' and quarantine_reason = 'unparseable_value' "
        "and quarantine_detail = 'quantity'",
    ).n[0]
    assert refused == 5
