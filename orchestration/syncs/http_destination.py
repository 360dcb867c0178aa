"""The HTTP destination: POST batches of rows as JSON, retry what may be transient, never twice in effect.

Request (one per batch):
    POST <url>
    Content-Type: application/json
    Idempotency-Key: <hash of the batch's row keys>
    X-Sync-Id: <sync id>
    Authorization: Bearer <token>            (when a token is configured)
    {"sync_id": ..., "channel": "email", "batch": 3,
     "rows": [{"op": "upsert", "idempotency_key": "...", "key": {...}, "fields": {...}},
              {"op": "delete", "idempotency_key": "...", "key": {...}}]}

A 2xx acknowledges the batch; its body may list rows it refused,
{"rejected": [{"idempotency_key": "...", "error": "..."}]}, which count as failed and are
offered again by the next sync. 408, 425, 429 and 5xx, timeouts and dropped connections are
retried with capped exponential backoff (honouring Retry-After); other statuses fail the batch
without retrying (the request itself is wrong). A batch that still fails after max_attempts
stops the sync: the endpoint is down, and hammering it batch after batch would not help.

A timeout does not say whether the server applied the batch. The row's idempotency key does:
it is the same on every retry and on a resumed sync (see diff.idempotency_key), so a server
that remembers keys it has applied drops the repeat.

The jitter is drawn from a generator seeded by the batch key and attempt: reproducible in
tests and logs, yet different batches (and different syncs) do not retry in lockstep.
Standard library only (urllib); dlt was considered, it is not in the environment.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from orchestration.syncs.diff import PlannedRow
from orchestration.syncs.protocol import BatchOutcome, DeliveryContext

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "ciw-reverse-etl/0.1"


def backoff_delay(
    attempt: int, initial: float, cap: float, seed: str, retry_after: float | None = None
) -> float:
    """Seconds to wait after failed try `attempt` (1-based): min(cap, initial * 2^(attempt-1)),
    scaled by a jitter in [0.5, 1) seeded by `seed`; at least Retry-After, still capped."""
    exponential = min(cap, initial * 2 ** (attempt - 1))
    delay = exponential * random.Random(f"{seed}:{attempt}").uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(cap, delay)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass
class HttpDestination:
    url: str
    batch_size: int = 500
    timeout_seconds: float = 10.0
    max_attempts: int = 6
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    token: str | None = field(default=None, repr=False)
    name: str = "http"
    # Injected in tests to record the backoff instead of waiting it out.
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    atomic: ClassVar[bool] = False

    def describe(self) -> str:
        """The URL without credentials or query string: it goes into the sync log."""
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))

    def open(self, context: DeliveryContext) -> HttpSender:
        return HttpSender(self, context)


class HttpSender:
    def __init__(self, destination: HttpDestination, context: DeliveryContext) -> None:
        self.destination = destination
        self.context = context
        self.batches = 0
        # Retries and their causes, for the log and for tests.
        self.retries: list[tuple[int, str, float]] = []

    def _payload(self, rows: Sequence[PlannedRow]) -> dict[str, Any]:
        return {
            "sync_id": self.context.sync_id,
            "channel": self.context.channel,
            "batch": self.batches,
            "rows": [
                {"op": row.op, "idempotency_key": row.idempotency_key, "key": row.key}
                | ({"fields": row.fields} if row.fields is not None else {})
                for row in rows
            ],
        }

    def _post(self, body: bytes, batch_key: str) -> tuple[int, bytes, str | None]:
        """(status, body, Retry-After) for any HTTP answer; raises OSError/HTTPException without one."""
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": batch_key,
            "X-Sync-Id": self.context.sync_id,
            "User-Agent": USER_AGENT,
        }
        if self.destination.token:
            headers["Authorization"] = f"Bearer {self.destination.token}"
        request = urllib.request.Request(self.destination.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.destination.timeout_seconds) as response:
                return response.status, response.read(), response.headers.get("Retry-After")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read(), error.headers.get("Retry-After")

    @staticmethod
    def _rejected(body: bytes) -> dict[str, str]:
        """idempotency_key -> reason for rows a 2xx answer refused."""
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return {}
        rejected = document.get("rejected") if isinstance(document, dict) else None
        reasons: dict[str, str] = {}
        for item in rejected or []:
            if isinstance(item, dict) and "idempotency_key" in item:
                reasons[str(item["idempotency_key"])] = str(item.get("error", "rejected"))
            elif isinstance(item, str):
                reasons[item] = "rejected"
        return reasons

    def send(self, rows: Sequence[PlannedRow]) -> BatchOutcome:
        self.batches += 1
        destination = self.destination
        body = json.dumps(self._payload(rows), separators=(",", ":")).encode("utf-8")
        batch_key = hashlib.sha256("|".join(row.idempotency_key for row in rows).encode()).hexdigest()[:32]
        seqs = [row.seq for row in rows]
        error = ""
        for attempt in range(1, destination.max_attempts + 1):
            retry_after = None
            try:
                status, answer, retry_after_header = self._post(body, batch_key)
            except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, refused, DNS
                error = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= status < 300:
                    rejected = self._rejected(answer)
                    failed = {
                        row.seq: rejected[row.idempotency_key]
                        for row in rows
                        if row.idempotency_key in rejected
                    }
                    acknowledged = [seq for seq in seqs if seq not in failed]
                    return BatchOutcome(acknowledged=acknowledged, failed=failed, attempts=attempt)
                error = f"HTTP {status}: {answer[:200].decode('utf-8', 'replace')}"
                if status not in RETRYABLE_STATUSES:
                    return BatchOutcome(
                        acknowledged=[], failed=dict.fromkeys(seqs, error), attempts=attempt, error=error
                    )
                retry_after = _retry_after_seconds(retry_after_header)
            if attempt < destination.max_attempts:
                delay = backoff_delay(
                    attempt,
                    destination.backoff_initial_seconds,
                    destination.backoff_max_seconds,
                    batch_key,
                    retry_after,
                )
                self.retries.append((attempt, error, delay))
                destination.sleep(delay)
        error = f"gave up after {destination.max_attempts} attempts: {error}"
        return BatchOutcome(
            acknowledged=[],
            failed=dict.fromkeys(seqs, error),
            attempts=destination.max_attempts,
            aborted=True,
            error=error,
        )
