"""End to end: an erasure request naming one email erases the whole person, and a consent
withdrawal dated after the as-of date acts on the next run (docs/privacy.md).

A small dataset with faults is built and synced once. A planted person (the generator's truth:
two accounts, emails, phones, cookies) gets a re-sent copy of one account row, which staging
quarantines; another targeted customer withdraws consent on their channel after the as-of date.
Then one erasure request naming one of the person's emails (typed in another case, with spaces)
is written as a raw crm.erasure_requests file, the warehouse is rebuilt and synced again, and
every column of every relation of the warehouse and every export written after the request is
searched for any identifier of the person or a hash of one: there must be none, except the
deletion instructions the channels need (key only).

The scenario is built once per session (privacy_scenario.py, the conftest fixture
`erasure_scenario`), shared with test_sync_rebuild_e2e.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from privacy_scenario import REQUEST_ID, RUN_AFTER, Scenario, _query

from orchestration.dbt_cli import DbtWorkspace
from orchestration.syncs.config import load_config

pytestmark = pytest.mark.slow

ROW_SEPARATOR = "\x1e"


def _relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_catalog = current_database()"
    ).fetchall()


def _sync_state_path(exports: Path) -> Path:
    return load_config(environ={"CIW_SYNC_EXPORTS_PATH": str(exports)}).state_path


def _hits(workspace: DbtWorkspace, values: set[str], exports: Path) -> dict[str, list[str]]:
    """Relation -> the person's values found in it, searching every column as text.

    Both databases: the warehouse and the sync state store beside the exports.
    """
    found: dict[str, list[str]] = {}
    needles = sorted(value.lower() for value in values)
    for database in (workspace.duckdb_path, _sync_state_path(exports)):
        found.update(_hits_in(Path(database), needles))
    return found


def _hits_in(database: Path, needles: list[str]) -> dict[str, list[str]]:
    """Each relation's rows, every column as lowercase text, read as one string and searched in
    Python: the same matches as a `contains` per row and needle, several times faster. Columns
    are joined by a unit separator and rows by a record separator no needle holds, so no match
    spans two rows."""
    assert not any(ROW_SEPARATOR in needle for needle in needles)
    found: dict[str, list[str]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for schema, table in _relations(con):
            columns = [row[0] for row in con.execute(f'describe "{schema}"."{table}"').fetchall()]
            text = " || '\x1f' || ".join(f"coalesce(lower(cast(\"{c}\" as varchar)), '')" for c in columns)
            (rows,) = con.execute(
                f'select string_agg({text}, ?) from "{schema}"."{table}"', [ROW_SEPARATOR]
            ).fetchone()
            hit = [needle for needle in needles if needle in (rows or "")]
            if hit:
                found[f"{database.name}:{schema}.{table}"] = sorted(hit)
    return found


@pytest.fixture(scope="module")
def scenario(erasure_scenario: Scenario) -> Scenario:
    return erasure_scenario


def test_no_relation_holds_anything_of_the_erased_person(scenario: Scenario) -> None:
    assert _sync_state_path(scenario.exports).exists()
    assert _hits(scenario.workspace, scenario.person_values, scenario.exports) == {}


def test_the_search_would_have_found_them(scenario: Scenario) -> None:
    """The same search finds the person's values in the raw files: it can fail."""
    with duckdb.connect() as con:
        raw = scenario.workspace.raw_path
        text = con.execute(
            f"select string_agg(lower(concat_ws('|', *columns(*))), '\n')"
            f" from read_parquet('{raw}/shop/customers/*.parquet', union_by_name = true)"
        ).fetchone()[0]
    assert sum(value.lower() in text for value in scenario.person_values) >= 4


def test_exports_after_the_request_hold_only_deletions_by_key(scenario: Scenario) -> None:
    needles = {value.lower() for value in scenario.person_values}
    deletions = 0
    for path in sorted(scenario.exports.glob(f"*/{RUN_AFTER}*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if not any(needle in line.lower() for needle in needles):
                continue
            # The documented exception: the instruction to delete, naming the key only.
            assert record["op"] == "delete", (path, record)
            assert set(record) <= {"op", "idempotency_key", "customer_id", "campaign_code"}, record
            deletions += 1
    assert deletions >= 1, "the person was targeted before: the next sync should delete them"


def test_the_audit_row_counts_without_identifiers(scenario: Scenario) -> None:
    rows = _query(
        scenario.workspace,
        "select raw_table, erased_rows, accounts_erased, identifiers_resolved from audit.audit__erasures"
        " where request_id = ?",
        [REQUEST_ID],
    )
    erased = {table: count for table, count, _, _ in rows}
    assert erased["shop.customers"] >= 3  # two accounts and the re-sent copy
    assert erased["shop.orders"] > 0 and erased["web.events"] > 0
    assert rows[0][2] >= 2 and rows[0][3] >= 5
    balanced = _query(
        scenario.workspace,
        "select raw_table, erased_rows from audit.audit__row_reconciliation where not is_balanced or erased_rows > 0",
    )
    assert {table: count for table, count in balanced} == {t: c for t, c in erased.items() if c > 0}


def test_a_withdrawal_after_the_as_of_date_acts_on_the_next_run(scenario: Scenario) -> None:
    still = _query(
        scenario.workspace,
        "select count(*) from activation.customer_treatments where customer_key = ? and channel = ?",
        [scenario.withdrawn_key, scenario.withdrawn_channel],
    )[0][0]
    assert still == 0
    deletions = [
        json.loads(line)
        for path in sorted((scenario.exports / scenario.withdrawn_channel).glob(f"{RUN_AFTER}*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert any(
        record["op"] == "delete" and scenario.withdrawn_key in json.dumps(record) for record in deletions
    ), "the next sync should remove the customer from the withdrawn channel"
