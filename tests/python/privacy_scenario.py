"""The privacy scenario (docs/privacy.md), built once per session and shared (conftest.py).

A small dataset with faults is built and synced once. A planted person (the generator's truth:
two accounts, emails, phones, cookies) gets a re-sent copy of one account row, which staging
quarantines; another targeted customer withdraws consent on their channel after the as-of date.
Then one erasure request naming one of the person's emails (typed in another case, with spaces)
is written as a raw crm.erasure_requests file, and the warehouse is rebuilt and synced again.

test_privacy_erasure searches the result for the person; test_sync_rebuild_e2e takes a copy of
the first build (raw files and warehouse as they were before the withdrawal and the request) to
rebuild from scratch, so the session pays for two small builds instead of four.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.syncs.config import load_config
from orchestration.syncs.runner import run_all_syncs

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
    # The first build, before the withdrawal and the request: its raw files and warehouse, copied.
    first_raw: Path
    first_warehouse: Path


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


def build_scenario(root: Path) -> Scenario:
    """Build, sync, withdraw, request erasure, build and sync again, in `root`."""
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
    # A copy of this first build (before any sync) for test_sync_rebuild_e2e's rebuild from scratch.
    first_raw, first_warehouse = root / "first" / "raw", root / "first" / "warehouse.duckdb"
    shutil.copytree(raw, first_raw)
    shutil.copy2(workspace.duckdb_path, first_warehouse)
    wal = workspace.duckdb_path.with_name(workspace.duckdb_path.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, first_warehouse.with_name(first_warehouse.name + ".wal"))
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
    return Scenario(
        workspace,
        exports,
        person_values,
        person_keys,
        withdrawn_key,
        withdrawn_channel,
        first_raw,
        first_warehouse,
    )
