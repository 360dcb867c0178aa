"""File layout and typed writing: DIR/<source>/<table>/part-00000.<ext> (+ part-00001-late.<ext>).

Parquet is written without the Arrow schema blob (store_schema=False): readers then see plain
string / int64 / float64 / bool / date32 / timestamp[us, UTC] columns from the Parquet logical
types alone, while the generator can hand low-cardinality text over dictionary-encoded, which
is much cheaper to write. Nothing time-dependent is stored in the files, so output is
byte-identical for identical arguments.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.contract import RAW_TABLES, RawTable
from orchestration.devtools.owned_folder import ForeignFolderError, first_file
from orchestration.devtools.sample_data.arrays import ts_text
from orchestration.devtools.sample_data.faults import DRIFT_COLUMNS, LATE_TABLES, STRING_COLUMNS_UNDER_FAULTS

MAIN_PART = "part-00000"
LATE_PART = "part-00001-late"
TRUTH_DIR = "_truth"
MANIFEST = "manifest.json"
# Truth files every run writes (besides the shape's own): what a manifest without a
# written_files list owned under _truth/.
LEGACY_TRUTH_FILES = (
    "persons.parquet", "segments.parquet", "person_parameters.parquet", "orders.parquet",
    "assignment_outcomes.parquet", "loyalty_effect.parquet", "external_assignment_outcomes.parquet",
    "faults.parquet", "treatment_effects.parquet", "purchase_process.json", "shape.json", MANIFEST,
)  # fmt: skip
ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
DICTIONARY = pa.dictionary(pa.int32(), pa.string())
# Low-cardinality text handed to the Parquet writer dictionary-encoded (no effect on the file's types).
DICTIONARY_COLUMNS = frozenset(
    {"channel", "store_id", "currency", "status", "reason", "event_name", "page_url", "search_term", "referrer",
     "utm_source", "utm_medium", "utm_campaign", "device_type", "os", "browser", "country", "timezone", "source",
     "tier", "campaign_id", "treatment_code", "group", "touchpoint"}
)  # fmt: skip


def output_schema(
    table: RawTable, faults: bool, file_format: str, text_columns: Sequence[str] = ()
) -> pa.Schema:
    """The exact columns and types written for a raw table; `text_columns` are written as text."""
    as_text = STRING_COLUMNS_UNDER_FAULTS.get(table.qualified_name, ()) if faults else ()
    fields = []
    for col in table.columns:
        logical = "string" if col.name in as_text or col.name in text_columns else col.logical_type
        typ = ARROW_TYPES[logical]
        if file_format == "csv" and logical == "timestamp":
            typ = pa.string()
        elif file_format == "parquet" and logical == "string" and col.name in DICTIONARY_COLUMNS:
            typ = DICTIONARY
        fields.append(pa.field(col.name, typ))
    if faults and table.qualified_name in DRIFT_COLUMNS:
        fields.append(pa.field(DRIFT_COLUMNS[table.qualified_name], pa.string()))
    return pa.schema(fields)


def _conform_column(col: pa.ChunkedArray | pa.Array, typ: pa.DataType) -> pa.Array | pa.ChunkedArray:
    if col.type == typ:
        return col
    if pa.types.is_dictionary(typ):
        return col.cast(typ) if pa.types.is_dictionary(col.type) else pc.dictionary_encode(col).cast(typ)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if typ == pa.string() and pa.types.is_timestamp(col.type):
        return timestamp_text(col)
    return col.cast(typ)


def timestamp_text(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Timestamp column -> 'YYYY-MM-DD HH:MM:SS' (UTC) text, nulls kept."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    seconds = pc.cast(col.cast(pa.timestamp("s", tz="UTC")), pa.int64())
    return ts_text(seconds.fill_null(0).to_numpy(), seconds.is_null().to_numpy(zero_copy_only=False))


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select the schema's columns in order and cast them; fails loudly on a missing column."""
    return pa.Table.from_arrays(
        [_conform_column(table.column(f.name), f.type) for f in schema], schema=schema
    )


class TableSink:
    """One output file, appended chunk by chunk."""

    def __init__(self, path: Path, schema: pa.Schema, file_format: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.schema, self.file_format, self.rows = path, schema, file_format, 0
        if file_format == "parquet":
            self._writer: pq.ParquetWriter | pacsv.CSVWriter = pq.ParquetWriter(
                path, schema, compression="snappy", store_schema=False
            )
        else:
            self._writer = pacsv.CSVWriter(path, schema)

    def write(self, table: pa.Table) -> None:
        table = conform(table, self.schema)
        if table.num_rows:
            self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


def table_dir(out: Path, table: RawTable) -> Path:
    return out / table.source / table.name


__all__ = ["ForeignFolderError", "check_output", "prepare_output"]


def _manifest_written_files(out: Path) -> set[str] | None:
    """Files (relative POSIX paths) an earlier run recorded in its manifest; None without a manifest.

    A manifest from before `written_files` existed lists its raw files under "files"; its truth
    files are the fixed names the generator always writes.
    """
    try:
        manifest = json.loads((out / TRUTH_DIR / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or "generator_version" not in manifest:
        return None
    listed = manifest.get("written_files")
    if not isinstance(listed, list):
        listed = [*manifest.get("files", {}), *(f"{TRUTH_DIR}/{name}" for name in LEGACY_TRUTH_FILES)]
    return {str(entry) for entry in listed if isinstance(entry, str)}


def _inside(out: Path, relative: str) -> Path | None:
    """out/relative when it stays inside out (no absolute paths, no '..'); else None."""
    if not relative or relative.startswith("/") or ".." in Path(relative).parts:
        return None
    return out / relative


def check_output(out: Path) -> set[str] | None:
    """Refuse `out` unless the generator may write there; return the files it owns there (None: none).

    May: `out` is absent, empty (no files; empty folders are fine) or one the generator made,
    marked by _truth/manifest.json. Nothing is written or removed here.
    """
    if out.exists() and not out.is_dir():
        raise ForeignFolderError(
            f"{out} is a file, not a folder: point --out / CIW_RAW_DATA_PATH at a folder."
        )
    if not out.exists():
        return None
    owned = _manifest_written_files(out)
    if owned is None:
        first = first_file(out)
        if first is not None:
            raise ForeignFolderError(
                f"Refusing to write sample data into {out}: it holds files the generator did not write "
                f"(e.g. {first}). Point --out / CIW_RAW_DATA_PATH at an empty or new folder; "
                "the generator never replaces files it did not make."
            )
    return owned


def prepare_output(out: Path) -> None:
    """Make `out` ready for a run: create it, or empty what an earlier run of this generator wrote.

    check_output decides whether the generator may write there at all. In its own folder it
    removes only the files the manifest lists (then the folders that became empty); a file
    anyone else put there stays.
    """
    owned = check_output(out)
    out.mkdir(parents=True, exist_ok=True)
    if owned is None:
        return
    removed_from: set[Path] = set()
    for relative in sorted(owned):
        path = _inside(out, relative)
        if path is not None and (path.is_file() or path.is_symlink()):
            path.unlink()
            removed_from.add(path.parent)
    # Folders left empty by the removal go too (a previous shape's table folders); never `out`.
    for folder in sorted(removed_from, key=lambda p: len(p.parts), reverse=True):
        while folder != out and out in folder.parents:
            with contextlib.suppress(OSError):  # a folder that still holds anything stays
                folder.rmdir()
            folder = folder.parent


def open_sinks(
    out: Path,
    faults: bool,
    file_format: str,
    tables: Sequence[RawTable] = RAW_TABLES,
    text_columns: Mapping[str, Sequence[str]] | None = None,
) -> dict[tuple[str, str], TableSink]:
    """Sinks keyed by (qualified table name, part): main parts always, late parts with faults."""
    sinks: dict[tuple[str, str], TableSink] = {}
    for table in tables:
        schema = output_schema(table, faults, file_format, (text_columns or {}).get(table.qualified_name, ()))
        folder = table_dir(out, table)
        sinks[(table.qualified_name, MAIN_PART)] = TableSink(
            folder / f"{MAIN_PART}.{file_format}", schema, file_format
        )
        if faults and table.qualified_name in LATE_TABLES:
            sinks[(table.qualified_name, LATE_PART)] = TableSink(
                folder / f"{LATE_PART}.{file_format}", schema, file_format
            )
    return sinks


class TruthSink:
    """A truth Parquet file (always Parquet, whatever the raw format), appended chunk by chunk."""

    def __init__(self, path: Path, schema: pa.Schema | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.schema, self.rows = path, schema, 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.schema is None:
            self.schema = table.schema
        table = conform(table, self.schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="snappy", store_schema=False)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is None:
            if self.schema is None:
                raise ValueError(f"{self.path}: nothing written and no schema")
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="snappy", store_schema=False)
        self._writer.close()
