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
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.syncs.config import load_config
from orchestration.syncs.runner import run_all_syncs

pytestmark = pytest.mark.slow

REQUEST_ID = "ER-TEST-1"
RUN_AFTER = "after-erasure"
# Identifier types identity resolution links a person by (the generator's truth uses the same).
PERSON_TYPES = ("customer_id", "email", "phone", "anonymous_id", "member_id")


@dataclass
class Scenario:
    workspace: DbtWorkspace
    exports: Path
    person_values: set[str]  # identifiers, raw and normalised, and hashes of them
    person_keys: set[str]  # the customer_key values the person had
    withdrawn_key: str
    withdrawn_channel: str


def _query(workspace: DbtWorkspace, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _dbt(workspace: DbtWorkspace, *args: str) -> None:
    result = run_dbt(list(args), workspace)
    assert result.returncode == 0, result.stdout[-6000:]


def _sync(workspace: DbtWorkspace, exports: Path, run_id: str) -> None:
    config = load_config(environ={"CIW_SYNC_EXPORTS_PATH": str(exports)})
    for result in run_all_syncs(workspace.duckdb_path, config, run_id=run_id):
        assert result.ok, result


def _append_rows(folder: Path, name: str, rows: list[dict]) -> None:
    """Write rows as one more raw file beside the generator's, in the schema of its main part."""
    schema = pq.read_schema(next(iter(sorted(folder.glob("part-*.parquet")))))
    columns = {}
    for field in schema:
        columns[field.name] = pa.array([row.get(field.name) for row in rows], type=field.type)
    pq.write_table(pa.table(columns, schema=schema), folder / name)


def _pick_person(raw: Path) -> tuple[str, dict[str, set[str]]]:
    """The planted person with the most identifiers among those with two accounts, an email, a
    phone and a cookie, none shared with anyone or a placeholder."""
    by_person: dict[str, dict[str, set[str]]] = {}
    spoiled: set[str] = set()
    for row in pq.read_table(raw / "_truth" / "persons.parquet").to_pylist():
        if row["is_shared"] or row["is_placeholder"]:
            spoiled.add(row["person_id"])
        by_person.setdefault(row["person_id"], {}).setdefault(row["identifier_type"], set()).add(
            row["identifier_value"]
        )
    candidates = [
        (-sum(len(values) for values in ids.values()), person_id)
        for person_id, ids in by_person.items()
        if person_id not in spoiled
        and len(ids.get("customer_id", ())) >= 2
        and all(ids.get(kind) for kind in ("email", "phone", "anonymous_id"))
    ]
    assert candidates, "the generator should plant persons with two accounts, emails, phones and cookies"
    person_id = min(candidates)[1]
    return person_id, by_person[person_id]


def _person_values(workspace: DbtWorkspace, raw: Path, ids: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """Every trace that would identify the person: identifiers (truth, identity_map, raw forms),
    their order ids, the keys they had, and the hashes the models make of identifiers."""
    nodes = [f"{kind}:{value}" for kind, values in ids.items() for value in values]
    keys = {
        row[0]
        for row in _query(
            workspace,
            "select distinct customer_key from customer_360.identity_map where identity_map_id in (select unnest(?))",
            [nodes],
        )
    }
    mapped = _query(
        workspace,
        "select identity_map_id, identifier_value from customer_360.identity_map"
        " where customer_key in (select unnest(?))",
        [sorted(keys)],
    )
    values: set[str] = {value for values in ids.values() for value in values}
    values |= {value for _, value in mapped} | set(keys)
    all_nodes = set(nodes) | {node for node, _ in mapped}
    accounts = sorted(ids["customer_id"])
    emails = sorted(ids.get("email", ()))
    with duckdb.connect() as con:
        raw_rows = con.execute(
            f"select email, phone from read_parquet('{raw}/shop/customers/*.parquet', union_by_name = true)"
            " where customer_id in (select unnest(?))",
            [accounts],
        ).fetchall()
        orders = con.execute(
            f"select order_id from read_parquet('{raw}/shop/orders/*.parquet', union_by_name = true)"
            " where customer_id in (select unnest(?)) or lower(trim(email)) in (select unnest(?))",
            [accounts, emails],
        ).fetchall()
        texts = sorted(values | all_nodes)
        hashes = con.execute("select md5(v), sha256(v) from (select unnest(?) as v)", [texts]).fetchall()
    values |= {text.strip() for row in raw_rows for text in row if text and text.strip()}
    values |= {row[0] for row in orders}
    values |= {digest for pair in hashes for digest in pair}
    # Values too short to be specific would match unrelated text.
    return {value for value in values if len(value) >= 6}, keys


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
    found: dict[str, list[str]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for schema, table in _relations(con):
            columns = [row[0] for row in con.execute(f'describe "{schema}"."{table}"').fetchall()]
            text = " || '\x1f' || ".join(f"coalesce(lower(cast(\"{c}\" as varchar)), '')" for c in columns)
            hit = con.execute(
                f'select distinct needle from "{schema}"."{table}", (select unnest(?) as needle) as n'
                f" where contains({text}, needle)",
                [needles],
            ).fetchall()
            if hit:
                found[f"{database.name}:{schema}.{table}"] = sorted(row[0] for row in hit)
    return found


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("privacy")
    raw = root / "raw"
    generate(GeneratorConfig(customers=300, seed=3, out=raw, faults=True))
    workspace = DbtWorkspace(raw, root / "warehouse.duckdb", root / "dbt")
    exports = root / "exports"
    no_tests = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")

    # A re-sent copy of one of the person's account rows with another city: a duplicate
    # (same key, other values) that staging quarantines, raw values included.
    person_id, ids = _pick_person(raw)
    account = sorted(ids["customer_id"])[0]
    customers = pq.read_table(raw / "shop" / "customers" / "part-00000.parquet")
    row = customers.filter(pc.equal(pc.cast(customers["customer_id"], pa.string()), account)).slice(0, 1)
    replay = row.to_pylist()[0]
    replay["city"] = "Erasureville"
    _append_rows(raw / "shop" / "customers", "part-00009-replay.parquet", [replay])
    _dbt(workspace, "build", *no_tests)
    nodes = [f"{kind}:{value}" for kind, values in ids.items() for value in values]
    resolved = _query(
        workspace,
        "select count(distinct customer_key), count(*) from customer_360.identity_map"
        " where identity_map_id in (select unnest(?))",
        [nodes],
    )[0]
    assert resolved == (1, len(nodes)), f"identity resolution should find {person_id} as one person"
    quarantined = _query(
        workspace,
        "select count(*) from audit.audit__quarantine where table_name = 'customers' and raw_key like ?",
        [f"{account}|%"],
    )[0][0]
    assert quarantined >= 1, "the planted copy of the person's account row should be quarantined"
    _sync(workspace, exports, "before-erasure")
    person_values, person_keys = _person_values(workspace, raw, ids)

    # Another customer, targeted on a channel, withdraws consent there after the as-of date.
    as_of = _query(workspace, "select as_of_date from audit.audit__as_of")[0][0]
    targeted = _query(
        workspace,
        "select t.customer_key, t.channel, min(m.identifier_value) from activation.customer_treatments t"
        " inner join customer_360.identity_map m on t.customer_key = m.customer_key"
        " and m.identifier_type = 'customer_id'"
        " where not coalesce(t.is_holdout, true) and t.customer_key not in (select unnest(?))"
        " group by 1, 2 order by 1, 2 limit 1",
        [sorted(person_keys)],
    )
    assert targeted, "the build should target someone"
    withdrawn_key, withdrawn_channel, withdrawn_account = targeted[0]
    withdrawn_at = dt.datetime.combine(as_of + dt.timedelta(days=2), dt.time(10, 0), tzinfo=dt.UTC)
    _append_rows(
        raw / "crm" / "consents",
        "part-00009-withdrawal.parquet",
        [
            {
                "customer_id": withdrawn_account,
                "channel": withdrawn_channel,
                "is_granted": False,
                "changed_at": withdrawn_at,
                "source": "unsubscribe_link",
            }
        ],
    )

    # The request names one email, typed as a person would.
    email = sorted(ids["email"])[0]
    requests = raw / "crm" / "erasure_requests"
    requests.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "request_id": [REQUEST_ID],
                "requested_at": [(as_of + dt.timedelta(days=5)).isoformat()],
                "identifier_type": ["email"],
                "identifier_value": [f"  {email.upper()} "],
            }
        ),
        requests / "part-00000.parquet",
    )
    _dbt(workspace, "build")
    _sync(workspace, exports, RUN_AFTER)
    print(f"erased {person_id}: {len(person_values)} values searched")
    return Scenario(workspace, exports, person_values, person_keys, withdrawn_key, withdrawn_channel)


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
