"""generate(config): build the world, run the chunks (optionally on worker processes), write files.

Chunks are written strictly in index order whatever order workers finish in, and at most
`workers` chunks are in flight at once, which bounds memory at any scale.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.contract import TABLES_BY_NAME
from orchestration.devtools.sample_data.chunk import ChunkOutput, generate_chunk
from orchestration.devtools.sample_data.config import GENERATOR_VERSION, PERSON_TYPES, GeneratorConfig
from orchestration.devtools.sample_data.effects import (
    add_sums,
    effects_summary,
    planted_json,
    treatment_effects_table,
)
from orchestration.devtools.sample_data.external import EXTERNAL
from orchestration.devtools.sample_data.faults import (
    FAULT_SCHEMA,
    plant_product_faults,
    records_of_tables,
    refused_products,
    unknown_column_records,
)
from orchestration.devtools.sample_data.handoff import SpilledChunk, spill, spill_dir, unspill
from orchestration.devtools.sample_data.shape_truth import shape_json
from orchestration.devtools.sample_data.shapes import EXCHANGE_RATES, EXPERIMENT, FULL, SHAPES
from orchestration.devtools.sample_data.shaping import shape_products
from orchestration.devtools.sample_data.truth import PERSONS_SCHEMA, process_json, write_json
from orchestration.devtools.sample_data.world import PRODUCT_FAULT_STREAM, World, build_world
from orchestration.devtools.sample_data.writer import (
    LATE_PART,
    MAIN_PART,
    MANIFEST,
    TRUTH_DIR,
    TableSink,
    TruthSink,
    open_sinks,
    prepare_output,
)

TRUTH_FILES = ("persons", "segments", "person_parameters", "orders", "assignment_outcomes", "loyalty_effect")
SHAPE_TRUTH_FILES: dict[str, tuple[str, ...]] = {EXPERIMENT: ("external_assignment_outcomes",)}
SHAPE_JSON = "shape.json"


class RowCounts(dict[str, int]):
    """Rows per written raw table; a contract table the shape does not write counts 0 rows.

    Iterating gives the written tables only, so per-table figures never divide by an absent table.
    """

    def __missing__(self, key: str) -> int:
        if key in TABLES_BY_NAME:
            return 0
        raise KeyError(key)


@dataclass
class GenerationSummary:
    """What was written; `elapsed_seconds` is the only non-deterministic field (not in any file)."""

    out: Path
    rows: dict[str, int]  # a RowCounts: 0 for contract tables the shape does not write
    files: dict[str, int]
    persons: dict[str, int]
    faults: dict[str, int]
    elapsed_seconds: float = 0.0
    truth_rows: dict[str, int] = field(default_factory=dict)
    shape: str = FULL

    def as_dict(self) -> dict:
        data = asdict(self)
        data["out"] = str(self.out)
        return data

    def __getitem__(self, key: str) -> object:
        """Dict-style access (summary["rows"]), for callers that treat the summary as a dict."""
        return self.as_dict()[key]


_WORLD: World | None = None
_SPILL_DIR: str | None = None


def _init_worker(world: World, folder: str) -> None:
    global _WORLD, _SPILL_DIR
    _WORLD, _SPILL_DIR = world, folder


def _work(index: int) -> SpilledChunk:
    assert _WORLD is not None and _SPILL_DIR is not None
    return spill(generate_chunk(_WORLD, index), _SPILL_DIR)


def _spawn_works() -> bool:
    """Spawned workers re-import the main script; impossible when it came from stdin (python -)."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or os.path.exists(main_file)


def _worker_count(config: GeneratorConfig, n_chunks: int) -> int:
    wanted = config.workers or min(2, os.cpu_count() or 1)
    if not _spawn_works():
        wanted = 1
    return max(1, min(wanted, n_chunks))


def run_chunks(world: World) -> Iterator[ChunkOutput]:
    """Chunk outputs in index order, computed inline or on a bounded pool of worker processes.

    At most `workers` chunks are in flight, so at most that many results wait for the writer.
    """
    workers = _worker_count(world.config, world.n_chunks)
    if workers == 1:
        for index in range(world.n_chunks):
            yield generate_chunk(world, index)
        return
    folder = spill_dir()
    # spawn: forking a process that already runs Arrow's thread pools is not safe.
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init_worker, initargs=(world, folder)
        ) as pool:
            pending: dict[int, Future[SpilledChunk]] = {}
            submitted = 0
            for index in range(world.n_chunks):
                while submitted < min(world.n_chunks, index + workers):
                    pending[submitted] = pool.submit(_work, submitted)
                    submitted += 1
                yield unspill(pending.pop(index).result())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _progress(config: GeneratorConfig, text: str) -> None:
    if not config.quiet:
        print(text, file=sys.stderr, flush=True)


def generate(config: GeneratorConfig) -> GenerationSummary:
    """Generate the raw tables and the planted truth under config.out; see the package docstring."""
    started = time.perf_counter()
    out = config.out
    prepare_output(out)  # refuses a folder holding anyone else's files, before any work
    world = build_world(config)
    shape = world.shape
    text_columns = {name: shape.date_only_columns(name) for name in shape.tables}
    sinks = open_sinks(out, config.faults, config.file_format, shape.raw_tables, text_columns)
    truth_dir = out / TRUTH_DIR
    truth = {
        name: TruthSink(truth_dir / f"{name}.parquet", PERSONS_SCHEMA if name == "persons" else None)
        for name in (*TRUTH_FILES, *SHAPE_TRUTH_FILES.get(shape.name, ()))
    }
    fault_sink = TruthSink(truth_dir / "faults.parquet", FAULT_SCHEMA)
    written = _written_files(out, [*sinks.values(), *truth.values(), fault_sink])
    # Marks the folder as the generator's from the first file on: a run that dies half-way
    # leaves a folder the next run may empty (only these files), not one it must refuse.
    write_json(truth_dir / MANIFEST, {"generator_version": GENERATOR_VERSION, "complete": False,
                                      "written_files": written})  # fmt: skip
    persons: Counter[str] = Counter()
    stats: dict[str, pa.Table] = {}
    samples: dict[str, list[pa.Table]] = {}

    products = shape_products(world, world.catalog.table)
    if config.faults:
        planted = plant_product_faults(world, world.rng(PRODUCT_FAULT_STREAM), products)
        products = planted.main["shop.products"]
        for records in [unknown_column_records(), *planted.records]:
            fault_sink.write(records_of_tables(records, set(shape.tables)))
        world = replace(world, refused_products=refused_products(world, planted))
    sinks[("shop.products", MAIN_PART)].write(products)
    if world.exchange_rates is not None:
        sinks[(EXCHANGE_RATES, MAIN_PART)].write(world.exchange_rates.table())

    for output in run_chunks(world):
        _write_chunk(output, sinks, truth, fault_sink)
        persons.update(output.persons_by_type)
        for name, part in output.stats.items():
            stats[name] = add_sums(stats.get(name), part)
        for name, part in output.samples.items():
            samples.setdefault(name, []).append(part)
        rows_so_far = sum(s.rows for s in sinks.values())
        _progress(
            config,
            f"chunk {output.index + 1}/{world.n_chunks}: {rows_so_far:,} rows so far, "
            f"{time.perf_counter() - started:.1f}s elapsed",
        )

    for sink in [*sinks.values(), *truth.values(), fault_sink]:
        sink.close()
    cells = stats.get("effect_cells")
    effects = treatment_effects_table(cells, config.effects)
    if shape.name == EXPERIMENT:
        effects = pa.concat_tables(
            [effects, treatment_effects_table(stats.get("external_cells"), config.effects, EXTERNAL)]
        )
    _write_once(truth_dir / "treatment_effects.parquet", effects)
    write_json(truth_dir / "purchase_process.json", process_json(world) | {"effects": planted_json(world)})
    combined = {name: pa.concat_tables(parts) for name, parts in samples.items()}
    write_json(truth_dir / SHAPE_JSON, shape_json(world, stats, combined, effects))
    summary = _summary(config, sinks, truth, fault_sink, persons)
    manifest = _manifest(config, world, summary)
    manifest["written_files"] = written
    manifest["effects"] = effects_summary(stats.get("effect_summary"), cells, config.effects)
    write_json(truth_dir / MANIFEST, manifest)
    summary.elapsed_seconds = round(time.perf_counter() - started, 3)
    return summary


def _written_files(out: Path, sinks: list[TableSink | TruthSink]) -> list[str]:
    """Every file a run writes, relative to out: the manifest's record of what the generator owns."""
    fixed = [
        f"{TRUTH_DIR}/{name}"
        for name in ("treatment_effects.parquet", "purchase_process.json", SHAPE_JSON, MANIFEST)
    ]
    return sorted({*(sink.path.relative_to(out).as_posix() for sink in sinks), *fixed})


def _write_once(path: Path, table: pa.Table) -> None:
    sink = TruthSink(path, table.schema)
    sink.write(table)
    sink.close()


def _write_chunk(
    output: ChunkOutput,
    sinks: dict[tuple[str, str], TableSink],
    truth: dict[str, TruthSink],
    fault_sink: TruthSink,
) -> None:
    for name, table in output.main.items():
        sinks[(name, MAIN_PART)].write(table)
    for name, table in output.late.items():
        sinks[(name, LATE_PART)].write(table)
    for name, table in output.truth.items():
        truth[name].write(table)
    for records in output.faults:
        fault_sink.write(records)


def _summary(
    config: GeneratorConfig,
    sinks: dict[tuple[str, str], TableSink],
    truth: dict[str, TruthSink],
    fault_sink: TruthSink,
    persons: Counter[str],
) -> GenerationSummary:
    rows = RowCounts({name: 0 for name in SHAPES[config.shape].tables})
    files: dict[str, int] = {}
    for (name, _), sink in sorted(sinks.items()):
        rows[name] += sink.rows
        files[sink.path.relative_to(config.out).as_posix()] = sink.rows
    faults: Counter[str] = Counter()
    if fault_sink.rows:
        kinds = pq.read_table(fault_sink.path, columns=["fault_kind"]).column("fault_kind")
        for item in pc.value_counts(kinds).to_pylist():
            faults[item["values"]] = item["counts"]
    return GenerationSummary(
        out=config.out,
        rows=rows,
        files=files,
        persons={t: persons.get(t, 0) for t in PERSON_TYPES},
        faults=dict(sorted(faults.items())),
        truth_rows={name: sink.rows for name, sink in truth.items()} | {"faults": fault_sink.rows},
        shape=config.shape,
    )


def _manifest(config: GeneratorConfig, world: World, summary: GenerationSummary) -> dict:
    process = process_json(world)
    return {
        "generator_version": GENERATOR_VERSION,
        "arguments": {
            "customers": config.customers,
            "seed": config.seed,
            "faults": config.faults,
            "file_format": config.file_format,
            "end_date": config.end_date.isoformat(),
            "history_days": config.history_days,
            "chunk_size": config.chunk_size,
            "effects": config.effects,
            "shape": config.shape,
        },
        "shape": config.shape,
        "tables": list(SHAPES[config.shape].tables),
        "observation_start": process["observation_start"],
        "observation_end": process["observation_end"],
        "layout": {
            "raw": "<source>/<table>/part-00000.<ext>",
            "late_rows": "<source>/<table>/part-00001-late.<ext> (orders, order_lines, events; with faults only)",
            "truth": "_truth/*.parquet, _truth/purchase_process.json, _truth/shape.json, _truth/manifest.json",
        },
        "persons": summary.persons | {"total": sum(summary.persons.values())},
        "rows": summary.rows,
        "files": summary.files,
        "truth_rows": summary.truth_rows,
        "fault_counts": summary.faults,
    }
