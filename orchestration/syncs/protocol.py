"""What the sync runner needs from a destination, and what a destination reports back.

Two kinds of destination, two ways of confirming delivery:
- atomic (file): everything is published at once at the end; the state moves once, after it.
- batched (http): each batch is acknowledged on its own; the state moves batch by batch, so a
  crash loses at most the batch in flight, which the idempotency keys make safe to send again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from orchestration.syncs.diff import PlannedRow


@dataclass(frozen=True)
class DeliveryContext:
    sync_id: str
    run_id: str
    channel: str
    attempt: int  # 1 for the first sync of this run, channel and destination
    fields: tuple[str, ...]  # destination field names, in mapping order
    key_fields: tuple[str, ...]


@dataclass(frozen=True)
class BatchOutcome:
    """acknowledged: seqs the destination confirmed; failed: seq -> why; aborted: stop this sync."""

    acknowledged: Sequence[int]
    failed: Mapping[int, str] = field(default_factory=dict)
    attempts: int = 1
    aborted: bool = False
    error: str | None = None


class Writer(Protocol):
    path: Path

    def write(self, rows: Sequence[PlannedRow]) -> None: ...
    def publish(self) -> Path: ...
    def discard(self) -> None: ...


class Sender(Protocol):
    def send(self, rows: Sequence[PlannedRow]) -> BatchOutcome: ...


class Destination(Protocol):
    """name: unique per channel, keys the state and the log (e.g. "file", "http")."""

    name: str
    batch_size: int
    atomic: bool

    def describe(self) -> str: ...
