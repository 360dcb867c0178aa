"""One Dagster asset per channel sync, downstream of activation.customer_treatments.

The channels come from destinations.yml when the definitions load; URLs and tokens are read
again when a sync runs, so pointing a channel at an endpoint needs no code change, only its env
var. A sync reads the warehouse (briefly, read-only) and writes its state store (a DuckDB file
beside the exports): it stays in the duckdb_writer pool, so it never reads a table a dbt step of
the same run is writing, and two syncs never wait on the store. A sync that finds the warehouse
or the store held by another process waits, then fails and is retried (defs/retries.py).
"""

import os
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.dbt_cli import PROJECT_DIR
from orchestration.defs.retries import LOCK_RETRY_POLICY, final_failure
from orchestration.syncs.config import load_config
from orchestration.syncs.runner import SyncResult, run_channel_sync
from orchestration.warehouse_lock import WarehouseLockedError

CUSTOMER_TREATMENTS = AssetKey(["activation", "customer_treatments"])
GROUP = "syncs"


def sync_asset_key(channel: str) -> AssetKey:
    return AssetKey(["reverse_etl", f"{channel}_sync"])


def warehouse_path() -> Path:
    """The warehouse dbt builds: CIW_DUCKDB_PATH, relative to the project like in profiles.yml."""
    path = Path(os.environ.get("CIW_DUCKDB_PATH", "data/warehouse.duckdb"))
    return path if path.is_absolute() else PROJECT_DIR / path


def _metadata(result: SyncResult) -> dict[str, object]:
    metadata: dict[str, object] = {
        "source_run_date": str(result.source_run_date),
        "current_rows": result.current_rows,
        "added": result.total("added"),
        "changed": result.total("changed"),
        "removed": result.total("removed"),
        "failed": result.total("failed"),
    }
    for d in result.destinations:
        metadata[f"{d.destination}_status"] = d.status
        metadata[f"{d.destination}_sync_id"] = d.sync_id
        if d.output:
            is_url = d.output.startswith(("http://", "https://"))
            metadata[f"{d.destination}_output"] = (MetadataValue.url if is_url else MetadataValue.path)(
                d.output
            )
    metadata["destinations"] = MetadataValue.md(
        "| destination | status | planned | added | changed | removed | failed | attempts |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
        + "\n".join(
            f"| {d.destination} | {d.status} | {d.planned} | {d.added} | {d.changed} | {d.removed} "
            f"| {d.failed} | {d.attempts} |"
            for d in result.destinations
        )
    )
    return metadata


def build_sync_asset(channel: str, config_path: Path | str | None = None) -> AssetsDefinition:
    @asset(
        key=sync_asset_key(channel),
        group_name=GROUP,
        deps=[CUSTOMER_TREATMENTS],
        pool="duckdb_writer",
        retry_policy=LOCK_RETRY_POLICY,
        kinds={"python", "duckdb"},
        description=(
            f"Sends the {channel} channel the treatments added, changed or removed since its last "
            "acknowledged sync (holdouts never); state and log in the sync state store beside the "
            "exports (docs/operations.md)."
        ),
    )
    def _sync(context: AssetExecutionContext) -> MaterializeResult:
        channel_config = load_config(config_path).channels[channel]
        try:
            result = run_channel_sync(warehouse_path(), channel_config, None, context.run.run_id)
        except WarehouseLockedError:
            raise  # another process holds a file: LOCK_RETRY_POLICY runs the sync again
        except Exception as error:  # a missing or broken source: a retry would fail the same way
            raise final_failure(f"{channel} sync: {type(error).__name__}: {error}") from error
        for d in result.destinations:
            context.log.info(
                f"{channel} -> {d.destination}: {d.status}, planned {d.planned}, added {d.added}, "
                f"changed {d.changed}, removed {d.removed}, failed {d.failed} ({d.output})"
            )
        metadata = _metadata(result)
        if not result.ok:
            errors = "; ".join(
                f"{d.destination}: {d.error}" for d in result.destinations if d.status == "failed"
            )
            # Its delivered rows are recorded; the next run offers the rest again. The endpoint
            # had its own retries (HttpDestination): no step retry on top.
            raise final_failure(f"{channel} sync failed: {errors}", metadata)
        return MaterializeResult(metadata=metadata)

    return _sync


def build_sync_assets(config_path: Path | str | None = None) -> list[AssetsDefinition]:
    """One asset per channel in destinations.yml."""
    return [build_sync_asset(channel, config_path) for channel in load_config(config_path).channels]


sync_assets = build_sync_assets()
