"""Every dbt model, seed and snapshot as a Dagster asset; every dbt test as an asset check."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt.project import warehouse_project
from orchestration.dbt.translator import LayerTranslator


@dbt_assets(
    manifest=warehouse_project.manifest_path,
    project=warehouse_project,
    dagster_dbt_translator=LayerTranslator(),
    # DuckDB lets one process write the file at a time: dbt steps queue on one pool.
    pool="duckdb_writer",
)
def warehouse_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    yield from dbt.cli(["build"], context=context).stream()
