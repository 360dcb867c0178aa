"""Reverse-ETL syncs, without HTTP: the configuration, the diff (added, changed, removed; a rerun
with no change sends nothing), what may never be sent (holdouts, other channels), the file
destination's content, recovery from a crash around publishing a file, and the Dagster assets.

The activation table is a fake written with duckdb (orchestration.syncs.testing), so no dbt is
needed; the expectations are computed here from the fake rows, not by the code under test.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from orchestration.defs.syncs import build_sync_assets, sync_asset_key
from orchestration.syncs import FileDestination, SyncConfigError, load_config, run_channel_sync
from orchestration.syncs.config import CHANNELS, parse_config
from orchestration.syncs.diff import SourceError
from orchestration.syncs.testing import assignment_id, fake_treatments, write_treatments
from orchestration.warehouse_lock import WarehouseLockedError

RUN_DATE = date(2026, 6, 30)
CUSTOMERS = 400


def sendable(rows: list[dict], channel: str) -> dict[tuple[str, str], dict]:
    """The truth: rows a channel may receive, by (customer_key, treatment_code)."""
    return {
        (row["customer_key"], row["treatment_code"]): row
        for row in rows
        if row["channel"] == channel and not row["is_holdout"]
    }


def read_export(path: Path) -> list[dict]:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def state_store(tmp_path: Path) -> Path:
    """Where the config fixture's syncs keep their state: beside the exports."""
    return tmp_path / "exports" / "_sync_state.duckdb"


def log_rows(store: Path) -> list[dict]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        cursor = con.execute("select * from sync_log order by started_at, sync_id")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


@pytest.fixture
def rows() -> list[dict]:
    return fake_treatments(CUSTOMERS, RUN_DATE, seed=3)


@pytest.fixture
def db(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "warehouse.duckdb"
    write_treatments(path, rows)
    return path


@pytest.fixture
def config(tmp_path: Path):
    """The repository's destinations.yml, files under tmp_path, no HTTP endpoint set."""
    return load_config(environ={"CIW_SYNC_EXPORTS_PATH": str(tmp_path / "exports")})


# --- configuration ----------------------------------------------------------------------------


def test_repository_config_maps_every_channel_and_switches_http_on_by_env(tmp_path: Path) -> None:
    config = load_config(environ={})
    assert set(config.channels) == set(CHANNELS)
    for channel in config.channels.values():
        assert channel.key == ("customer_key", "treatment_code")
        assert channel.file is not None and channel.http is None
        assert set(channel.key) <= set(channel.columns)
    env = {"CIW_SYNC_SMS_URL": "https://sms.example/v1/audience", "CIW_SYNC_SMS_TOKEN": "s3cret"}
    sms = load_config(environ=env).channels["sms"]
    assert sms.http is not None and sms.http.url == env["CIW_SYNC_SMS_URL"] and sms.http.token == "s3cret"
    assert "s3cret" not in repr(sms)
    assert load_config(environ=env).channels["email"].http is None
    assert load_config(environ={}).channels["phone"].file.format == "csv"


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ({"columns": {"customer_key": "id", "treatment_code": "t", "email_address": "to"}}, "unknown source"),
        ({"columns": {"customer_key": "id"}}, "key columns"),
        ({"columns": {"customer_key": "id", "treatment_code": "bad name"}}, "identifiers"),
        (
            {"columns": {"customer_key": "id", "treatment_code": "t"}, "file": {"format": "xml"}},
            "file format",
        ),
        ({"columns": {"customer_key": "id", "treatment_code": "id"}}, "same field"),
    ],
)
def test_config_mistakes_fail_naming_the_channel(channel: dict, message: str) -> None:
    with pytest.raises(SyncConfigError, match=message) as error:
        parse_config({"channels": {"email": channel}}, environ={})
    assert "email" in str(error.value)
    with pytest.raises(SyncConfigError, match="not one of"):
        parse_config(
            {"channels": {"fax": {"columns": {"customer_key": "id", "treatment_code": "t"}}}}, environ={}
        )


# --- the diff ---------------------------------------------------------------------------------


def test_diff_sends_added_changed_removed_then_nothing_on_a_rerun(
    db: Path, rows: list[dict], config, tmp_path: Path
) -> None:
    email = config.channels["email"]
    exports = tmp_path / "exports"
    first = run_channel_sync(db, email, None, "run-1")
    expected = sendable(rows, "email")
    [file_result] = first.destinations
    assert (file_result.status, file_result.added, file_result.changed, file_result.removed) == (
        "success",
        len(expected),
        0,
        0,
    )
    sent = read_export(exports / "email" / "run-1.jsonl")
    assert {(r["customer_id"], r["campaign_code"]) for r in sent} == set(expected)
    assert {r["op"] for r in sent} == {"upsert"}

    # A rebuild of the same run with edits, each of a known kind.
    email_rows = sorted(expected)
    changed_offer = email_rows[0:5]
    deleted = email_rows[5:9]
    to_holdout = email_rows[9:11]
    to_sms = email_rows[11:13]
    new_treatment = email_rows[13]
    unmapped_only = email_rows[14:17]
    edited = []
    for row in rows:
        row = dict(row)
        key = (row["customer_key"], row["treatment_code"])
        if key in deleted:
            continue
        if key in changed_offer:
            row["offer_code"] = "NEW_OFFER"
        if key in to_holdout:
            row.update(is_holdout=True, holdout_type="treatment")  # channel left set: still never sent
        if key in to_sms:
            row["channel"] = "sms"
        if key == new_treatment:
            row["treatment_code"] = "NEW_TREATMENT"
            row["assignment_id"] = assignment_id(row["customer_key"], "NEW_TREATMENT", RUN_DATE)
        if key in unmapped_only:
            row.update(reason="edited reason", rule_id="R99", expected_value=99.0)  # not mapped for email
        edited.append(row)
    for number in range(3):
        new = dict(rows[0], customer_key=f"N{number}", channel="email", is_holdout=False, holdout_type=None)
        new["assignment_id"] = assignment_id(new["customer_key"], new["treatment_code"], RUN_DATE)
        edited.append(new)
    write_treatments(db, edited)

    second = run_channel_sync(db, email, None, "run-2")
    [result] = second.destinations
    print(
        f"\nrun 1: {len(expected)} email rows added of {CUSTOMERS} customers; "
        f"run 2: added {result.added}, changed {result.changed}, removed {result.removed}"
    )
    assert (result.added, result.changed, result.removed, result.failed) == (3 + 1, 5, 4 + 2 + 2 + 1, 0)
    delta = read_export(exports / "email" / "run-2.jsonl")
    deletes = [r for r in delta if r["op"] == "delete"]
    assert {(r["customer_id"], r["campaign_code"]) for r in deletes} == {
        *deleted,
        *to_holdout,
        *to_sms,
        new_treatment,
    }
    # A deletion carries the key only; deletions come before upserts.
    assert all(set(r) == {"op", "idempotency_key", "customer_id", "campaign_code"} for r in deletes)
    assert [r["op"] for r in delta] == sorted((r["op"] for r in delta), key=lambda op: op != "delete")
    upserts = {(r["customer_id"], r["campaign_code"]): r for r in delta if r["op"] == "upsert"}
    assert {key for key in upserts if upserts[key]["offer_code"] == "NEW_OFFER"} == set(changed_offer)
    assert not set(unmapped_only) & set(upserts)

    third = run_channel_sync(db, email, None, "run-3")
    [nothing] = third.destinations
    assert (nothing.status, nothing.planned, nothing.delivered) == ("success", 0, 0)
    assert not (exports / "email" / "run-3.jsonl").exists()
    log = [row for row in log_rows(state_store(tmp_path)) if row["run_id"] == "run-3"]
    assert [(r["status"], r["rows_planned"], r["rows_added"], r["rows_removed"]) for r in log] == [
        ("success", 0, 0, 0)
    ]


def test_holdouts_and_other_channels_are_never_sent(
    db: Path, rows: list[dict], config, tmp_path: Path
) -> None:
    # Held-out rows that still carry a channel must not leak either.
    leaky = [dict(row, channel=row["channel"] or "email") for row in rows]
    write_treatments(db, leaky)
    holdouts = {row["customer_key"] for row in rows if row["is_holdout"]}
    assert len(holdouts) > 20
    seen: dict[str, set[tuple[str, str]]] = {}
    for name, channel in config.channels.items():
        result = run_channel_sync(db, channel, None, "run-1")
        [file_result] = result.destinations
        key_fields = channel.key_fields
        path = Path(file_result.output) if file_result.planned else None
        sent = read_export(path) if path else []
        seen[name] = {tuple(r[field] for field in key_fields) for r in sent}
        assert seen[name] == set(sendable(rows, name)), name
        assert not {customer for customer, _ in seen[name]} & holdouts, name
    print(
        f"\nrows per channel: { {name: len(keys) for name, keys in seen.items()} }; holdouts {len(holdouts)}"
    )
    assert sum(len(keys) for keys in seen.values()) == CUSTOMERS - len(holdouts)


def test_only_the_latest_run_is_synced(db: Path, rows: list[dict], config) -> None:
    email = config.channels["email"]
    run_channel_sync(db, email, None, "run-1")
    later = date(2026, 7, 1)
    next_run = [dict(row) for row in fake_treatments(CUSTOMERS // 2, later, seed=3)]  # half the customers
    write_treatments(db, next_run, replace=False)  # the old run stays in the table
    [result] = run_channel_sync(db, email, None, "run-2").destinations
    before, after = sendable(rows, "email"), sendable(next_run, "email")
    # Keys kept get a new assignment id and window: changed; keys gone: removed.
    assert result.added == len(set(after) - set(before))
    assert result.changed == len(set(after) & set(before))
    assert result.removed == len(set(before) - set(after))
    print(f"\nlatest run only: added {result.added}, changed {result.changed}, removed {result.removed}")


def test_file_destination_writes_csv_with_renamed_fields_atomically(
    db: Path, rows: list[dict], config, tmp_path: Path
) -> None:
    phone = config.channels["phone"]
    [result] = run_channel_sync(db, phone, None, "2026-06-30/daily run").destinations
    path = Path(result.output)
    assert path == tmp_path / "exports" / "phone" / "2026-06-30_daily_run.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["op", "idempotency_key", *phone.columns.values()]
        written = list(reader)
    expected = sendable(rows, "phone")
    assert len(written) == len(expected) == result.added > 0
    first = written[0]
    source = expected[(first["customer_id"], first["call_reason_code"])]
    assert first["agent_note"] == source["reason"]
    assert float(first["priority_value"]) == source["expected_value"]
    assert first["call_after"] == source["send_window_start"].isoformat()
    assert first["expires_on"] == source["valid_until"].isoformat()
    assert len({r["idempotency_key"] for r in written}) == len(written)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left

    # A second sync of the same run id gets a file of its own.
    write_treatments(db, [dict(r, offer_code="X") if r["channel"] == "phone" else r for r in rows])
    [again] = run_channel_sync(db, phone, None, "2026-06-30/daily run").destinations
    assert Path(again.output).name == "2026-06-30_daily_run.2.csv"
    assert again.changed == len(expected)

    # A new state store (reset by hand) with the same run id again: a third file, none overwritten.
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    fresh = run_channel_sync(db, phone, None, "2026-06-30/daily run", state_path=tmp_path / "reset.duckdb")
    assert Path(fresh.destinations[0].output).name == "2026-06-30_daily_run.3.csv"
    assert all((path.parent / name).read_bytes() == content for name, content in before.items())


# --- crashes around the file --------------------------------------------------------------

CRASH_SCRIPT = """
import os, sys
from pathlib import Path
from orchestration.syncs import load_config, run_channel_sync
from orchestration.syncs import runner, file_destination

db, exports, where = sys.argv[1:4]
config = load_config(environ={"CIW_SYNC_EXPORTS_PATH": exports})
def die(*args, **kwargs):
    os._exit(17)  # a process killed there: no handler, no rollback, no cleanup
if where == "after_publish":
    runner.confirm_pending = die
else:
    file_destination.FileWriter.publish = die
run_channel_sync(Path(db), config.channels["email"], None, "crashed-run")
"""


def crash(db: Path, exports: Path, where: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(db), str(exports), where],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 17, done.stderr


def test_crash_after_the_file_is_published_is_confirmed_not_resent(
    db: Path, rows: list[dict], config, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    crash(db, exports, "after_publish")
    published = exports / "email" / "crashed-run.jsonl"
    assert published.exists()
    assert [r["status"] for r in log_rows(state_store(tmp_path))] == ["running"]

    [resumed] = run_channel_sync(db, config.channels["email"], None, "run-2").destinations
    log = {r["sync_id"]: r for r in log_rows(state_store(tmp_path))}
    old = log["crashed-run:email:file:1"]
    print(
        f"\nrecovered sync: {old['status']}, {old['rows_added']} rows confirmed; resume planned {resumed.planned}"
    )
    assert (old["status"], old["rows_added"], old["rows_failed"]) == (
        "recovered",
        len(sendable(rows, "email")),
        0,
    )
    assert (resumed.planned, resumed.resumed_sync_id) == (0, "crashed-run:email:file:1")
    assert sorted(p.name for p in (exports / "email").iterdir()) == ["crashed-run.jsonl"]


def test_crash_before_the_file_is_published_writes_it_on_resume(
    db: Path, rows: list[dict], config, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    crash(db, exports, "before_publish")
    assert not (exports / "email" / "crashed-run.jsonl").exists()
    [resumed] = run_channel_sync(db, config.channels["email"], None, "run-2").destinations
    old = next(r for r in log_rows(state_store(tmp_path)) if r["run_id"] == "crashed-run")
    assert old["status"] == "interrupted"
    assert resumed.added == len(sendable(rows, "email"))
    assert sorted(p.name for p in (exports / "email").iterdir()) == ["run-2.jsonl"]  # temp file cleaned


# --- the source and the warehouse ---------------------------------------------------------


def test_empty_or_missing_source_is_refused_and_deletes_nothing(
    db: Path, rows: list[dict], config, tmp_path: Path
) -> None:
    email = config.channels["email"]
    run_channel_sync(db, email, None, "run-1")
    write_treatments(db, [])
    with pytest.raises(SourceError, match="no rows"):
        run_channel_sync(db, email, None, "run-2")
    con = duckdb.connect(str(db))
    con.execute("drop table activation.customer_treatments")
    con.close()
    with pytest.raises(SourceError, match="does not exist"):
        run_channel_sync(db, email, None, "run-3")
    con = duckdb.connect(str(state_store(tmp_path)), read_only=True)
    live = con.execute("select count(*) from sync_state").fetchone()[0]
    con.close()
    assert live == len(sendable(rows, "email"))


def test_no_treatments_and_nothing_ever_sent_is_a_quiet_no_op(tmp_path: Path, config) -> None:
    """A company without consents (or whose rules fire for nobody) has no treatments: with nothing
    sent before there is nothing to delete, so the sync sends nothing and does not fail."""
    db = tmp_path / "empty.duckdb"
    write_treatments(db, [])
    result = run_channel_sync(db, config.channels["email"], None, "run-1")
    assert result.current_rows == 0 and result.destinations == () and result.source_run_date is None
    assert not any((tmp_path / "exports").glob("*/*"))  # no channel file (the state store sits beside them)


def test_a_key_that_is_not_unique_is_refused(db: Path, rows: list[dict], config) -> None:
    twin = next(dict(r) for r in rows if r["channel"] == "email")
    twin["assignment_id"] += "-twin"
    write_treatments(db, [*rows, twin])
    with pytest.raises(SourceError, match="not unique"):
        run_channel_sync(db, config.channels["email"], None, "run-1")


def test_a_warehouse_held_by_another_process_fails_clearly(
    db: Path, config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIW_LOCK_TIMEOUT_SECONDS", "1")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError, match=f"held by PID {holder.pid}"):
            run_channel_sync(db, config.channels["email"], None, "run-1")
        assert 1 <= time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()


# --- Dagster --------------------------------------------------------------------------------


def test_one_sync_asset_per_channel_downstream_of_customer_treatments(
    db: Path, rows: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets = build_sync_assets()
    assert {asset.key for asset in assets} == {sync_asset_key(channel) for channel in CHANNELS}
    for asset in assets:
        assert asset.group_names_by_key[asset.key] == "syncs"
        assert asset.asset_deps[asset.key] == {AssetKey(["activation", "customer_treatments"])}

    monkeypatch.setenv("CIW_DUCKDB_PATH", str(db))
    monkeypatch.setenv("CIW_SYNC_EXPORTS_PATH", str(tmp_path / "exports"))
    monkeypatch.delenv("CIW_SYNC_EMAIL_URL", raising=False)
    email = next(asset for asset in assets if asset.key == sync_asset_key("email"))
    result = materialize([email], instance=DagsterInstance.ephemeral())
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["added"].value == len(sendable(rows, "email"))
    assert metadata["failed"].value == 0
    assert metadata["file_status"].value == "success"
    assert (tmp_path / "exports" / "email" / f"{result.run_id}.jsonl").exists()


def test_destination_names_must_be_unique(db: Path, config, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unique"):
        run_channel_sync(db, config.channels["email"], [FileDestination(tmp_path), FileDestination(tmp_path)])


def test_a_deleted_key_leaves_no_state_and_comes_back_under_new_idempotency_keys(
    db: Path, rows: list[dict], config, tmp_path: Path
) -> None:
    """No tombstone: a removal deletes the key's state row. Re-added with the same content, the key
    starts at version 1 again; its new life id keeps the idempotency key apart from the first one,
    which an endpoint that remembers keys would otherwise drop as a repeat."""
    email = config.channels["email"]
    exports = tmp_path / "exports" / "email"
    row = next(r for r in rows if r["channel"] == "email" and not r["is_holdout"])
    key = {"customer_id": row["customer_key"], "campaign_code": row["treatment_code"]}

    def line(run_id: str) -> dict:
        [found] = [
            r for r in read_export(exports / f"{run_id}.jsonl") if r["customer_id"] == key["customer_id"]
        ]
        return found

    run_channel_sync(db, email, None, "run-1")
    write_treatments(db, [r for r in rows if r is not row])
    [removed] = run_channel_sync(db, email, None, "run-2").destinations
    assert (removed.removed, line("run-2")["op"]) == (1, "delete")
    store = duckdb.connect(str(state_store(tmp_path)), read_only=True)
    keys = [json.loads(k) for (k,) in store.execute("select row_key from sync_state").fetchall()]
    store.close()
    assert {"customer_key": row["customer_key"], "treatment_code": row["treatment_code"]} not in keys
    write_treatments(db, rows)
    [added] = run_channel_sync(db, email, None, "run-3").destinations
    assert added.added == 1
    first, again = line("run-1"), line("run-3")
    assert {k: v for k, v in first.items() if k != "idempotency_key"} == {
        k: v for k, v in again.items() if k != "idempotency_key"
    }
    assert first["idempotency_key"] != again["idempotency_key"]
