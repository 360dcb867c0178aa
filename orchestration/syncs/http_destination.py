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
offered again by the next sync. Other statuses fail the batch without retrying (the request
itself is wrong), except the transient ones below. A batch that still fails after max_attempts
stops the sync: the endpoint is down, and hammering it batch after batch would not help.

Retries are urllib3's (`urllib3.util.Retry` on a `PoolManager`), not hand-written:
- what: 408, 425, 429 and 5xx (status_forcelist), timeouts, refused and dropped connections;
  at most max_attempts requests per batch, first try included (total = max_attempts - 1);
- POST is in allowed_methods on purpose: a timeout does not say whether the server applied the
  batch, but the row's idempotency key does. It is the same on every retry and on a resumed
  sync (see diff.idempotency_key), so a server that remembers keys it has applied drops the
  repeat; the batch's Idempotency-Key header is stable the same way;
- backoff: urllib3 retries the first failure at once, then waits backoff_factor x 2^(n-1) after
  the n-th consecutive failure plus a random jitter up to backoff_factor, capped at
  backoff_max_seconds; backoff_factor = backoff_initial_seconds / 2, so the waits are 0, then
  backoff_initial_seconds doubling up to the cap;
- Retry-After (on 429 and 503) replaces the backoff, capped at backoff_max_seconds too
  (retry_after_max), so a server asking for an hour does not stall the sync for an hour.
Proxies: like urllib, the *_proxy / no_proxy environment variables decide (urllib3 alone
ignores them). dlt was considered, it is not in the environment.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import urllib3
from urllib3.util import Retry, Timeout

from orchestration.syncs.diff import PlannedRow
from orchestration.syncs.protocol import BatchOutcome, DeliveryContext

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "ciw-reverse-etl/0.1"
LOGGER = logging.getLogger(__name__)


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
    atomic: ClassVar[bool] = False

    def describe(self) -> str:
        """The URL without credentials or query string: it goes into the sync log."""
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))

    def retry(self) -> Retry:
        """The retry policy of one batch (see the module docstring)."""
        factor = self.backoff_initial_seconds / 2
        return Retry(
            total=self.max_attempts - 1,
            allowed_methods=frozenset({"POST"}),
            status_forcelist=RETRYABLE_STATUSES,
            backoff_factor=factor,
            backoff_jitter=factor,
            backoff_max=self.backoff_max_seconds,
            respect_retry_after_header=True,
            retry_after_max=self.backoff_max_seconds,
            # The last answer of a batch that exhausted its retries is returned, not raised.
            raise_on_status=False,
            redirect=False,
        )

    def pool(self) -> urllib3.PoolManager:
        """A connection pool, through the environment's proxy for this URL if it names one."""
        timeout = Timeout(connect=self.timeout_seconds, read=self.timeout_seconds)
        parts = urllib.parse.urlsplit(self.url)
        proxy = urllib.request.getproxies().get(parts.scheme)
        if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
            return urllib3.ProxyManager(proxy, timeout=timeout)
        return urllib3.PoolManager(timeout=timeout)

    def open(self, context: DeliveryContext) -> HttpSender:
        return HttpSender(self, context)


class HttpSender:
    def __init__(self, destination: HttpDestination, context: DeliveryContext) -> None:
        self.destination = destination
        self.context = context
        self.batches = 0
        self.pool = destination.pool()

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

    def _headers(self, batch_key: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": batch_key,
            "X-Sync-Id": self.context.sync_id,
            "User-Agent": USER_AGENT,
        }
        if self.destination.token:
            headers["Authorization"] = f"Bearer {self.destination.token}"
        return headers

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
        try:
            response = self.pool.request(
                "POST",
                destination.url,
                body=body,
                headers=self._headers(batch_key),
                retries=destination.retry(),
            )
        except urllib3.exceptions.MaxRetryError as exc:  # timeouts, resets, refused, DNS: every attempt
            error = f"gave up after {destination.max_attempts} attempts: {type(exc.reason).__name__}: {exc.reason}"
            return BatchOutcome(
                [], dict.fromkeys(seqs, error), attempts=destination.max_attempts, aborted=True, error=error
            )
        # The Retry object a response comes with records the failed attempts before it.
        attempts = len(response.retries.history) + 1 if response.retries is not None else 1
        if 200 <= response.status < 300:
            rejected = self._rejected(response.data)
            failed = {
                row.seq: rejected[row.idempotency_key] for row in rows if row.idempotency_key in rejected
            }
            acknowledged = [seq for seq in seqs if seq not in failed]
            return BatchOutcome(acknowledged=acknowledged, failed=failed, attempts=attempts)
        # The body may echo rows (customer keys): it goes to the process log, never to the sync log.
        LOGGER.warning("%s answered HTTP %s: %s", destination.describe(), response.status,
                       response.data[:200].decode("utf-8", "replace"))  # fmt: skip
        error = f"HTTP {response.status}"
        if response.status in RETRYABLE_STATUSES:  # still failing after the last attempt
            error = f"gave up after {attempts} attempts: {error}"
            return BatchOutcome([], dict.fromkeys(seqs, error), attempts=attempts, aborted=True, error=error)
        return BatchOutcome([], dict.fromkeys(seqs, error), attempts=attempts, error=error)
