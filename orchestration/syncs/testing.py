"""Test doubles for the syncs: a fake activation table and a channel API that fails on purpose.

They live in the package (not in tests/) so an end-to-end test of the whole pipeline can point
a channel at the same server. Nothing here is used by a production sync.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.syncs.config import SOURCE_COLUMNS

TREATMENTS_DDL = """
create table activation.customer_treatments (
    assignment_id varchar primary key,
    customer_key varchar not null,
    treatment_code varchar not null,
    channel varchar,
    send_window_start timestamp,
    send_window_end timestamp,
    send_timezone varchar,
    offer_code varchar,
    reason varchar,
    selection_method varchar,
    rule_id varchar,
    expected_value double,
    is_holdout boolean not null,
    holdout_type varchar,
    valid_until date,
    run_date date not null
)
"""
COLUMNS = SOURCE_COLUMNS
TREATMENTS = {
    "WELCOME": ("WELCOME5", ("email", "push", "sms")),
    "CROSS_SELL": ("NEXTCAT10", ("email", "push")),
    "WINBACK": ("COMEBACK15", ("email", "post", "sms")),
    "RETENTION_CALL": (None, ("phone",)),
    "LOYALTY_BONUS": ("DOUBLEPOINTS", ("email", "push")),
}


def assignment_id(customer_key: str, treatment_code: str, run_date: date) -> str:
    return f"{customer_key}-{treatment_code}-{run_date:%Y%m%d}"


def fake_treatments(customers: int, run_date: date, seed: int = 1) -> list[dict[str, Any]]:
    """One row per customer, ~10% global and ~5% treatment holdouts (channel null), seeded."""
    rng = random.Random(seed)
    rows = []
    for number in range(customers):
        customer_key = f"C{number:05d}"
        treatment_code = rng.choice(sorted(TREATMENTS))
        offer_code, channels = TREATMENTS[treatment_code]
        draw = rng.random()
        holdout_type = "global" if draw < 0.10 else "treatment" if draw < 0.15 else None
        start = datetime.combine(run_date + timedelta(days=1), datetime.min.time()) + timedelta(
            hours=rng.randint(8, 19)
        )
        rows.append(
            {
                "assignment_id": assignment_id(customer_key, treatment_code, run_date),
                "customer_key": customer_key,
                "treatment_code": treatment_code,
                "channel": None if holdout_type else rng.choice(channels),
                "send_window_start": start,
                "send_window_end": start + timedelta(hours=2),
                "send_timezone": rng.choice(["Europe/Berlin", "Europe/Paris", "America/New_York"]),
                "offer_code": offer_code,
                "reason": f"rule R{rng.randint(1, 9)} matched",
                "selection_method": "rule",
                "rule_id": f"R{rng.randint(1, 9)}",
                "expected_value": round(rng.uniform(0.5, 40.0), 2),
                "is_holdout": holdout_type is not None,
                "holdout_type": holdout_type,
                "valid_until": run_date + timedelta(days=14),
                "run_date": run_date,
            }
        )
    return rows


def write_treatments(
    duckdb_path: Path | str, rows: Iterable[Mapping[str, Any]], replace: bool = True
) -> None:
    """(Re)write activation.customer_treatments in a DuckDB file, as the dbt model would."""
    con = duckdb.connect(str(duckdb_path))
    try:
        con.execute("create schema if not exists activation")
        if replace:
            con.execute("drop table if exists activation.customer_treatments")
        con.execute(TREATMENTS_DDL.replace("create table", "create table if not exists"))
        rows = list(rows)
        if rows:
            # One bulk insert from Arrow: executemany inserts row by row (seconds for hundreds).
            batch = pa.Table.from_pylist([{column: row[column] for column in COLUMNS} for row in rows])
            con.register("_fake_treatments", batch)
            con.execute(
                f"insert into activation.customer_treatments ({', '.join(COLUMNS)}) "
                f"select {', '.join(COLUMNS)} from _fake_treatments"
            )
            con.unregister("_fake_treatments")
    finally:
        con.close()


# --- a channel tool's API -------------------------------------------------------------------

FAILURES = ("500", "503", "429", "400", "timeout", "reset_before", "reset_after")


class ChannelServer:
    """An HTTP endpoint on 127.0.0.1 that applies each row's effect once per idempotency key.

    failures: request number (1-based) -> behaviour, deterministic because the client sends
    sequentially. Behaviours: "500", "503" and "429" (both with Retry-After: `retry_after`) and
    "400" answer without applying; "reset_before" drops the connection (TCP RST) without applying; "timeout"
    applies, then answers after `slow_seconds` (the client has given up by then); "reset_after"
    applies, then drops the connection. always: behaviour for every request not in failures.
    reject: rows (by their key dict) the tool refuses in a 2xx answer. request_times: when each
    request arrived (time.monotonic()), to measure the client's waits between attempts.
    """

    def __init__(
        self,
        failures: Mapping[int, str] | None = None,
        always: str | None = None,
        reject: Callable[[dict[str, Any]], bool] | None = None,
        slow_seconds: float = 0.6,
        retry_after: str = "0",
    ) -> None:
        for behaviour in [*(failures or {}).values(), *([always] if always else [])]:
            if behaviour not in FAILURES:
                raise ValueError(f"unknown failure {behaviour!r}")
        self.failures = dict(failures or {})
        self.always = always
        self.reject = reject
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.lock = threading.Lock()
        self.requests = 0
        self.request_log: list[tuple[int, str, int]] = []  # (number, behaviour, rows)
        self.request_times: list[float] = []
        self.rows_received = 0
        self.duplicates = 0
        self.applied: Counter[str] = Counter()  # idempotency key -> times its effect was applied
        self.store: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
        self.deleted_missing = 0
        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1/audience"

    def __enter__(self) -> ChannelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_behaviour(self, rows: int) -> tuple[int, str]:
        with self.lock:
            self.requests += 1
            self.request_times.append(time.monotonic())
            behaviour = self.failures.get(self.requests, self.always or "ok")
            self.request_log.append((self.requests, behaviour, rows))
            return self.requests, behaviour

    def apply(self, payload: dict[str, Any]) -> list[dict[str, str]]:
        """Apply the rows not seen before; return those refused."""
        rejected = []
        with self.lock:
            for row in payload["rows"]:
                self.rows_received += 1
                key = row["idempotency_key"]
                if key in self.applied:
                    self.duplicates += 1
                    continue
                if self.reject is not None and self.reject(row["key"]):
                    rejected.append({"idempotency_key": key, "error": "invalid customer"})
                    continue
                self.applied[key] += 1
                identity = tuple(sorted(row["key"].items()))
                if row["op"] == "delete":
                    if self.store.pop(identity, None) is None:
                        self.deleted_missing += 1
                else:
                    self.store[identity] = row["fields"]
        return rejected


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # dropped connections are the point of this server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(
        self, status: int, document: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends a TCP RST, the client sees "connection reset by peer".
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def do_POST(self) -> None:
        owner: ChannelServer = self.server.owner  # type: ignore[attr-defined]
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _, behaviour = owner.next_behaviour(len(payload["rows"]))
        if behaviour == "reset_before":
            return self._reset()
        if behaviour == "500":
            return self._answer(500, {"error": "internal"})
        if behaviour in ("503", "429"):
            return self._answer(int(behaviour), {"error": "busy"}, {"Retry-After": owner.retry_after})
        if behaviour == "400":
            return self._answer(400, {"error": "bad request"})
        rejected = owner.apply(payload)
        if behaviour == "timeout":
            time.sleep(owner.slow_seconds)
        if behaviour == "reset_after":
            return self._reset()
        # After a timeout the client has gone away: the answer has nowhere to go.
        with contextlib.suppress(OSError):
            self._answer(200, {"accepted": len(payload["rows"]) - len(rejected), "rejected": rejected})

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
