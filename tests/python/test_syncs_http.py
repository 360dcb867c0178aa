"""The HTTP destination against a channel API on 127.0.0.1 that fails on purpose.

The server (orchestration.syncs.testing.ChannelServer) applies each row's effect once per
idempotency key and fails chosen requests: 500 and 503 before applying, 400, a connection reset
before or after applying, a timeout after applying. "Exactly once" is measured on the server:
every idempotency key applied once, and its final contents equal to the channel's sendable
rows computed here from the fake activation table. Retries and backoff are urllib3's: the tests
hold them to what the destination promises (what is retried, how often, how long it waits,
measured on the server's clock), with backoffs of hundredths of a second.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from orchestration.defs.syncs import build_sync_asset
from orchestration.syncs import HttpDestination, load_config, run_channel_sync
from orchestration.syncs.testing import ChannelServer, fake_treatments, write_treatments

RUN_DATE = date(2026, 6, 30)
CUSTOMERS = 400
BATCH = 7


@pytest.fixture(autouse=True)
def _no_proxy_for_the_test_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours *_proxy variables; the test server is local."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def rows() -> list[dict]:
    return fake_treatments(CUSTOMERS, RUN_DATE, seed=5)


@pytest.fixture
def db(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "warehouse.duckdb"
    write_treatments(path, rows)
    return path


@pytest.fixture
def email(tmp_path: Path):
    """The email channel; its state store under tmp_path (no file destination is used here)."""
    return load_config(environ={"CIW_SYNC_STATE_PATH": str(tmp_path / "state.duckdb")}).channels["email"]


def expected_store(rows: list[dict], email) -> dict:
    """What the tool must hold: the email channel's sendable rows, as the server keys them."""
    store = {}
    for row in rows:
        if row["channel"] == "email" and not row["is_holdout"]:
            key = tuple(
                sorted({"customer_id": row["customer_key"], "campaign_code": row["treatment_code"]}.items())
            )
            store[key] = row
    return store


def assert_server_holds(server: ChannelServer, rows: list[dict], email) -> None:
    expected = expected_store(rows, email)
    assert set(server.store) == set(expected)
    for key, fields in server.store.items():
        source = expected[key]
        assert fields["assignment_id"] == source["assignment_id"]
        assert fields["offer_code"] == source["offer_code"]
        assert fields["send_after"] == source["send_window_start"].isoformat()
    # Each change took effect exactly once, however often it was sent.
    assert set(server.applied.values()) == {1}


def http(server: ChannelServer, **overrides) -> HttpDestination:
    settings = {
        "url": server.url,
        "batch_size": BATCH,
        "timeout_seconds": 0.3,
        "max_attempts": 4,
        "backoff_initial_seconds": 0.01,
        "backoff_max_seconds": 0.04,
    }
    return HttpDestination(**(settings | overrides))


def state_count(email, destination: str = "http") -> int:
    """Keys the destination holds according to the email channel's state store."""
    con = duckdb.connect(str(email.state_path), read_only=True)
    try:
        return con.execute("select count(*) from sync_state where destination = ?", [destination]).fetchone()[
            0
        ]
    finally:
        con.close()


def one_batch(db: Path, email, server: ChannelServer, state: Path | None = None, **overrides):
    """Sync the email channel as a single batch; the destination's result."""
    [result] = run_channel_sync(
        db, email, [http(server, batch_size=10_000, **overrides)], "run-1", state_path=state
    ).destinations
    return result


def waits(server: ChannelServer) -> list[float]:
    """Seconds between consecutive requests, on the server's clock."""
    return [later - earlier for earlier, later in itertools.pairwise(server.request_times)]


def test_a_503_is_retried_and_the_batch_applied_once(db: Path, rows: list[dict], email) -> None:
    with ChannelServer(failures={1: "503"}) as server:
        result = one_batch(db, email, server)
    assert (result.status, result.added, result.attempts) == ("success", len(expected_store(rows, email)), 2)
    assert server.requests == 2 and server.duplicates == 0
    assert_server_holds(server, rows, email)


def test_a_400_fails_the_batch_without_a_retry(db: Path, rows: list[dict], email) -> None:
    with ChannelServer(failures={1: "400"}) as server:
        result = one_batch(db, email, server)
    assert server.requests == 1 and result.attempts == 1
    assert (result.status, result.delivered) == ("failed", 0)
    assert "HTTP 400" in result.error and "gave up" not in result.error
    assert state_count(email) == 0


def test_retry_after_is_honoured_up_to_the_backoff_cap(
    db: Path, rows: list[dict], email, tmp_path: Path
) -> None:
    with ChannelServer(failures={1: "429"}, retry_after="1") as server:
        result = one_batch(db, email, server, backoff_max_seconds=5.0)
    print(f"\nRetry-After: 1 -> waited {waits(server)[0]:.3f} s")
    assert result.status == "success" and server.requests == 2
    assert 1.0 <= waits(server)[0] < 3.0  # not the 0.01 s backoff
    fresh = tmp_path / "fresh.duckdb"  # nothing synced yet, with a state store of its own
    write_treatments(fresh, rows)
    with ChannelServer(failures={1: "503"}, retry_after="3600") as server:
        result = one_batch(fresh, email, server, tmp_path / "fresh_state.duckdb", backoff_max_seconds=0.5)
    print(f"Retry-After: 3600 with a 0.5 s cap -> waited {waits(server)[0]:.3f} s")
    assert result.status == "success" and server.requests == 2
    assert 0.5 <= waits(server)[0] < 2.5


def test_backoff_doubles_up_to_its_cap_and_the_sync_gives_up(db: Path, email) -> None:
    with ChannelServer(always="500") as server:
        result = one_batch(
            db, email, server, max_attempts=5, backoff_initial_seconds=0.2, backoff_max_seconds=0.5
        )
    gaps = waits(server)
    print(f"\nwaits between 5 attempts (0.2 s initial, 0.5 s cap): {[round(gap, 3) for gap in gaps]}")
    assert server.requests == result.attempts == 5
    assert result.status == "failed" and "gave up after 5 attempts: HTTP 500" in result.error
    # urllib3: the first retry at once, then factor 0.1 x 2^(n-1) plus jitter up to 0.1, capped.
    assert gaps[0] < 0.15
    assert gaps[1] >= 0.2 and gaps[2] >= 0.4 and all(gap >= 0.5 for gap in gaps[3:])
    # Upper bounds with room for a busy machine: the cap holds the last waits near 0.5 s.
    assert gaps[1] < 0.6 and all(gap < 1.2 for gap in gaps[2:])


def test_each_row_takes_effect_once_under_500s_timeouts_and_resets(db: Path, rows: list[dict], email) -> None:
    failures = {
        1: "500",
        2: "timeout",
        4: "reset_after",
        5: "reset_before",
        6: "503",
        9: "timeout",
        11: "500",
    }
    with ChannelServer(failures=failures, slow_seconds=0.6) as server:
        [result] = run_channel_sync(db, email, [http(server)], "run-1").destinations
        expected = expected_store(rows, email)
        applied_then_lost = sum(
            n for _, behaviour, n in server.request_log if behaviour in {"timeout", "reset_after"}
        )
        print(
            f"\n{len(expected)} rows in {-(-len(expected) // BATCH)} batches: {server.requests} requests, "
            f"{server.rows_received} rows received, {server.duplicates} repeats dropped by idempotency key, "
            f"waits {[round(gap, 3) for gap in waits(server)]}"
        )
        assert (result.status, result.added, result.failed) == ("success", len(expected), 0)
        # Each failure was retried once, and nothing else.
        assert result.attempts == server.requests == -(-len(expected) // BATCH) + len(failures)
        # Requests that were applied but whose answer was lost came again and were dropped.
        assert server.duplicates == applied_then_lost > 0
        assert_server_holds(server, rows, email)

        [rerun] = run_channel_sync(db, email, [http(server)], "run-2").destinations
        assert (rerun.planned, rerun.attempts) == (0, 0)
        assert server.requests == result.attempts  # nothing sent at all


def test_changes_and_deletions_reach_the_server(db: Path, rows: list[dict], email) -> None:
    with ChannelServer(failures={2: "timeout", 3: "reset_after"}) as server:
        run_channel_sync(db, email, [http(server)], "run-1")
        email_keys = sorted(
            (r["customer_key"], r["treatment_code"])
            for r in rows
            if r["channel"] == "email" and not r["is_holdout"]
        )
        gone, moved, edited_keys = set(email_keys[:6]), set(email_keys[6:9]), set(email_keys[9:15])
        edited = []
        for row in rows:
            key = (row["customer_key"], row["treatment_code"])
            if key in gone:
                continue
            row = dict(row)
            if key in moved:
                row["channel"] = "push"
            if key in edited_keys:
                row["offer_code"] = "EDITED"
            edited.append(row)
        write_treatments(db, edited)
        before = server.requests
        [result] = run_channel_sync(db, email, [http(server)], "run-2").destinations
        print(
            f"\nsecond sync: changed {result.changed}, removed {result.removed} in {server.requests - before} requests"
        )
        assert (result.added, result.changed, result.removed, result.failed) == (0, 6, 9, 0)
        assert server.deleted_missing == 0
        assert_server_holds(server, edited, email)


def test_a_dead_endpoint_fails_the_sync_and_the_next_one_delivers_everything(
    db: Path, rows: list[dict], email
) -> None:
    expected = expected_store(rows, email)
    with ChannelServer(always="500") as down:
        [failed] = run_channel_sync(db, email, [http(down)], "run-1").destinations
        # Gives up on the first batch instead of hammering the endpoint with every batch.
        assert down.requests == 4
    assert (failed.status, failed.delivered, failed.failed) == ("failed", 0, len(expected))
    assert "gave up after 4 attempts" in failed.error
    assert state_count(email) == 0
    with ChannelServer() as up:
        [result] = run_channel_sync(db, email, [http(up)], "run-2").destinations
        assert (result.status, result.added) == ("success", len(expected))
        assert_server_holds(up, rows, email)


def test_refused_rows_count_as_failed_and_are_offered_again(db: Path, rows: list[dict], email) -> None:
    expected = expected_store(rows, email)
    # The first five customers in delivery order: all in batch 1, apart from the 400 batch.
    refused = set(sorted(expected, key=lambda key: dict(key)["customer_id"])[:5])
    refused_customers = {dict(key)["customer_id"] for key in refused}
    # 400 on request 3: the batch is wrong as sent, so it is not retried within the sync.
    with ChannelServer(
        failures={3: "400"}, reject=lambda key: key["customer_id"] in refused_customers
    ) as server:
        [first] = run_channel_sync(db, email, [http(server)], "run-1").destinations
        bad_request_rows = BATCH
        print(
            f"\nfirst sync: {first.status}, delivered {first.delivered}, failed {first.failed}: {first.error}"
        )
        assert first.status == "partial"
        assert first.failed == len(refused) + bad_request_rows
        assert first.delivered == len(expected) - first.failed
        assert state_count(email) == first.delivered
        server.reject = None
        [second] = run_channel_sync(db, email, [http(server)], "run-2").destinations
        assert (second.status, second.planned, second.added) == ("success", first.failed, first.failed)
        assert_server_holds(server, rows, email)


CRASH_SCRIPT = """
import os, sys
from pathlib import Path
from orchestration.syncs import HttpDestination, load_config, run_channel_sync
from orchestration.syncs import runner

db, url, batch, crash_at, state = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
record = runner.record_acknowledged
calls = []
def record_or_die(con, seqs, params):
    calls.append(1)
    if len(calls) == crash_at:
        os._exit(17)  # the server acknowledged this batch; the process dies before recording it
    record(con, seqs, params)
runner.record_acknowledged = record_or_die
email = load_config(environ={"CIW_SYNC_STATE_PATH": state}).channels["email"]
run_channel_sync(Path(db), email, [HttpDestination(url=url, batch_size=batch, timeout_seconds=2)], "crashed-run")
"""


def test_a_sync_killed_mid_way_resumes_without_duplicates_or_losses(
    db: Path, rows: list[dict], email
) -> None:
    expected = expected_store(rows, email)
    crash_at = 4
    with ChannelServer() as server:
        crashed = subprocess.run(
            [
                sys.executable,
                "-c",
                CRASH_SCRIPT,
                str(db),
                server.url,
                str(BATCH),
                str(crash_at),
                str(email.state_path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert crashed.returncode == 17, crashed.stderr
        assert server.requests == crash_at
        assert state_count(email) == (crash_at - 1) * BATCH  # batches recorded before the kill

        [resumed] = run_channel_sync(db, email, [http(server)], "run-2").destinations
        con = duckdb.connect(str(email.state_path), read_only=True)
        old_status, old_added = con.execute(
            "select status, rows_added from sync_log where run_id = 'crashed-run'"
        ).fetchone()
        con.close()
        print(
            f"\nkilled once batch {crash_at} was acknowledged ({old_added} rows recorded); resume planned "
            f"{resumed.planned} of {len(expected)}; server dropped {server.duplicates} repeats"
        )
        assert (old_status, old_added) == ("interrupted", (crash_at - 1) * BATCH)
        assert resumed.resumed_sync_id == "crashed-run:email:http:1"
        assert resumed.planned == len(expected) - (crash_at - 1) * BATCH
        # The unrecorded batch went again, with the same idempotency keys: dropped, not applied twice.
        assert server.duplicates == BATCH
        assert (resumed.status, resumed.added) == ("success", resumed.planned)
        assert_server_holds(server, rows, email)
        assert state_count(email) == len(expected)


def test_the_dagster_asset_fails_when_its_endpoint_is_down(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "destinations.yml"
    config.write_text(
        "channels:\n"
        "  email:\n"
        "    columns: {customer_key: customer_id, treatment_code: campaign_code, offer_code: offer_code}\n"
        "    file: {enabled: false}\n"
        "    http: {url_env: TEST_EMAIL_URL, max_attempts: 2, backoff_initial_seconds: 0.01,"
        " backoff_max_seconds: 0.02, timeout_seconds: 1}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CIW_DUCKDB_PATH", str(db))
    monkeypatch.setenv("CIW_SYNC_STATE_PATH", str(tmp_path / "state.duckdb"))
    with ChannelServer(always="503") as server:
        monkeypatch.setenv("TEST_EMAIL_URL", server.url)
        result = materialize(
            [build_sync_asset("email", config)], instance=DagsterInstance.ephemeral(), raise_on_error=False
        )
        assert not result.success
        assert server.requests == 2
    con = duckdb.connect(str(tmp_path / "state.duckdb"), read_only=True)
    status, failed = con.execute("select status, rows_failed from sync_log").fetchone()
    con.close()
    assert status == "failed" and failed > 0
