"""The channel tools at the end of the file sync: they import each file and send at the send window.

A sync file holds audience changes keyed by (customer, treatment): an upsert schedules or
reschedules the message, a delete withdraws it. A tool sends a scheduled message when its send
window opens; a message still waiting when the next file arrives is replaced by that file's
version of the row (or withdrawn). So with a step shorter than the send delay a customer kept in
the same treatment gets one message, not one per run; with the default weekly step every
scheduled message has gone out before the next file arrives.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from orchestration.syncs import SyncConfig, SyncResult

SEND_COLUMNS = ("channel", "customer_key", "treatment_code", "assignment_id", "send_at", "run_date")


def read_sync_file(path: Path) -> list[dict[str, str | None]]:
    """Rows of one JSON-lines or CSV export, values as text (CSV has no nulls: empty is null)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)]
    with path.open(encoding="utf-8") as handle:
        return [
            {k: None if v is None else str(v) for k, v in json.loads(line).items()}
            for line in handle
            if line.strip()
        ]


@dataclass
class ChannelTools:
    """Every channel's queue of scheduled messages, keyed by (channel, customer_key, treatment_code)."""

    config: SyncConfig
    pending: dict[tuple[str, str, str], dict] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def import_files(self, results: list[SyncResult], run_date: str) -> dict[str, int]:
        """Apply the file each channel got in this sync; counts of upserts and deletes."""
        counts = {"upserts": 0, "deletes": 0}
        for result in results:
            channel = self.config.channels[result.channel]
            fields = dict(channel.columns)  # source column -> field in the tool
            for destination in result.destinations:
                if destination.destination != "file" or not destination.output or not destination.delivered:
                    continue
                self.files.append(destination.output)
                for row in read_sync_file(Path(destination.output)):
                    key = (result.channel, row[fields["customer_key"]], row[fields["treatment_code"]])
                    if row["op"] == "delete":
                        self.pending.pop(key, None)
                        counts["deletes"] += 1
                        continue
                    start = row.get(fields["send_window_start"]) if "send_window_start" in fields else None
                    self.pending[key] = {
                        "channel": result.channel,
                        "customer_key": key[1],
                        "treatment_code": key[2],
                        "assignment_id": row.get(fields["assignment_id"])
                        if "assignment_id" in fields
                        else None,
                        # Send windows are UTC; a tool given none sends the morning after the run.
                        "send_at": pd.Timestamp(start, tz="UTC")
                        if start
                        else pd.Timestamp(run_date, tz="UTC") + pd.Timedelta(days=1, hours=9),
                        "run_date": run_date,
                    }
                    counts["upserts"] += 1
        return counts

    def send_before(self, until: pd.Timestamp | None) -> pd.DataFrame:
        """Take the messages whose send window opens before `until` (None: all) off the queues.

        Sorted by send time and key, so what follows does not depend on file or dict order.
        """
        due = [k for k, row in self.pending.items() if until is None or row["send_at"] < until]
        sends = pd.DataFrame([self.pending.pop(k) for k in due], columns=list(SEND_COLUMNS))
        return sends.sort_values(["send_at", "channel", "customer_key", "treatment_code"], ignore_index=True)
