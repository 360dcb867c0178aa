"""Hand chunk results from worker processes to the writer through Arrow IPC files, not pickles.

A chunk holds a few hundred MB of Arrow data; pickling it through a pipe costs seconds of CPU
and a second in-memory copy. Workers instead write uncompressed IPC files into a private temp
folder (in /dev/shm when available) and the writer memory-maps them, which is close to free.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from orchestration.devtools.sample_data.chunk import ChunkOutput


@dataclass(frozen=True)
class SpilledChunk:
    index: int
    persons_by_type: dict[str, int]
    files: tuple[
        tuple[str, str, str], ...
    ]  # (group, name, path): main, late, truth, stats, samples or faults


def spill_dir() -> str:
    """A private temp folder, preferably in RAM-backed /dev/shm; the caller removes it."""
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    return tempfile.mkdtemp(prefix="ciw-sample-data-", dir=base)


def _write(table: pa.Table, path: Path) -> None:
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def spill(output: ChunkOutput, folder: str) -> SpilledChunk:
    files = []
    groups = {
        "main": output.main,
        "late": output.late,
        "truth": output.truth,
        "stats": output.stats,
        "samples": output.samples,
    }
    for group, tables in groups.items():
        for name, table in tables.items():
            path = Path(folder) / f"{output.index:05d}-{group}-{name}.arrow"
            _write(table, path)
            files.append((group, name, str(path)))
    for k, table in enumerate(output.faults):
        path = Path(folder) / f"{output.index:05d}-faults-{k}.arrow"
        _write(table, path)
        files.append(("faults", str(k), str(path)))
    return SpilledChunk(output.index, output.persons_by_type, tuple(files))


def unspill(spilled: SpilledChunk) -> ChunkOutput:
    """Memory-map the chunk's tables back; the files are unlinked at once (the maps stay valid)."""
    out = ChunkOutput(index=spilled.index, persons_by_type=spilled.persons_by_type, main={})
    for group, name, path in spilled.files:
        table = ipc.open_file(pa.memory_map(path)).read_all()
        os.unlink(path)
        if group == "faults":
            out.faults.append(table)
        else:
            getattr(out, group)[name] = table
    return out
