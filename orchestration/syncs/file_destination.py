"""The file destination: one file per channel and sync run, which appears whole or not at all.

Tools that import files (a print house, a call-centre dialler, an ESP's SFTP import) pick up
whatever is in the folder; a half-written file would be imported half. So rows go to a hidden
temporary file beside the target, which is flushed to disk and renamed into place (a rename is
atomic within one filesystem). Each line carries op (upsert | delete) and the row's
idempotency_key, so an importer can apply files in name order and drop a row it has seen.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, ClassVar

from orchestration.syncs.diff import PlannedRow
from orchestration.syncs.protocol import DeliveryContext

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def export_path(directory: Path, context: DeliveryContext, extension: str) -> Path:
    """<directory>/<channel>/<run_id>[.<attempt>].<ext>: a rerun of the same run gets its own file."""
    stem = _UNSAFE.sub("_", context.run_id)
    if context.attempt > 1:
        stem = f"{stem}.{context.attempt}"
    return directory / context.channel / f"{stem}.{extension}"


@dataclass
class FileDestination:
    """Writes the changes of one sync to one JSON-lines or CSV file."""

    directory: Path
    format: str = "jsonl"
    name: str = "file"
    # Rows read from the warehouse per chunk; the file is published once, at the end.
    batch_size: int = 5_000
    atomic: ClassVar[bool] = True

    def describe(self) -> str:
        return str(self.directory)

    def open(self, context: DeliveryContext) -> FileWriter:
        """A writer for a file name no file has yet: an export is never overwritten, even when the
        state store was reset and a run id comes round again."""
        path, attempt = export_path(self.directory, context, self.format), context.attempt
        while path.exists():
            attempt += 1
            path = export_path(self.directory, replace(context, attempt=attempt), self.format)
        return FileWriter(path, self.format, context)

    def is_published(self, output: str | None) -> bool:
        """Did an interrupted sync get its file into place? Then its rows were delivered."""
        return bool(output) and Path(output).is_file()

    def clean_up(self, output: str | None) -> None:
        """Remove what an interrupted sync left half-written."""
        if output:
            FileWriter.temporary_path(Path(output)).unlink(missing_ok=True)


class FileWriter:
    def __init__(self, path: Path, file_format: str, context: DeliveryContext) -> None:
        self.path = path
        self.temporary = self.temporary_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = self.temporary.open("w", encoding="utf-8", newline="")
        self._format = file_format
        self._csv: csv.DictWriter | None = None
        if file_format == "csv":
            self._csv = csv.DictWriter(
                self._handle, fieldnames=["op", "idempotency_key", *context.fields], extrasaction="raise"
            )
            self._csv.writeheader()

    @staticmethod
    def temporary_path(path: Path) -> Path:
        return path.with_name(f".{path.name}.tmp")

    def write(self, rows: Sequence[PlannedRow]) -> None:
        for row in rows:
            record = {"op": row.op, "idempotency_key": row.idempotency_key, **(row.fields or row.key)}
            if self._csv is not None:
                self._csv.writerow(record)
            else:
                self._handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

    def publish(self) -> Path:
        """Flush to disk, then rename into place."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self.temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)
        return self.path

    def discard(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self.temporary.unlink(missing_ok=True)
