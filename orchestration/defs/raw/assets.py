"""The sample-data generator as the asset upstream of every dbt source."""

import os
from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    multi_asset,
)

from orchestration.contract import RAW_TABLES
from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.devtools.sample_data.writer import ForeignFolderError


def raw_data_path() -> Path:
    """Where raw files live: the same env var the dbt sources read."""
    return Path(os.environ.get("CIW_RAW_DATA_PATH", "data/raw")).resolve()


class SampleDataConfig(Config):
    """How much sample data to generate; the demo's defaults."""

    customers: int = 10_000
    seed: int = 7
    faults: bool = True
    shape: str = "full"  # which company: full, orders_only, experiment, multi_currency


RAW_SPECS = [
    AssetSpec(
        AssetKey(["raw", table.source, table.name]),
        group_name="raw",
        description=f"Raw {table.qualified_name} files ({table.grain}), written by the sample-data generator.",
    )
    for table in RAW_TABLES
]


@multi_asset(specs=RAW_SPECS, name="sample_data")
def sample_data(context: AssetExecutionContext, config: SampleDataConfig) -> Iterator[MaterializeResult]:
    """Generate every raw table of the contract, with planted truth under _truth/.

    Only into an empty folder or one the generator made: a CIW_RAW_DATA_PATH holding the user's
    own files fails the step with one line (nothing of theirs is touched), and no retry.
    """
    try:
        summary = generate(
            GeneratorConfig(
                customers=config.customers,
                seed=config.seed,
                out=raw_data_path(),
                faults=config.faults,
                shape=config.shape,
            )
        )
    except ForeignFolderError as error:
        raise Failure(description=str(error), allow_retries=False) from None
    context.log.info(f"generated {sum(summary.rows.values()):,} raw rows in {summary.elapsed_seconds}s")
    for table in RAW_TABLES:
        yield MaterializeResult(
            asset_key=AssetKey(["raw", table.source, table.name]),
            metadata={
                "rows": summary.rows[table.qualified_name],
                "path": str(raw_data_path() / table.source / table.name),
            },
        )
