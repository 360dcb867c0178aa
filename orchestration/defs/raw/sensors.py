"""Start a warehouse build when new or changed raw files arrive."""

from __future__ import annotations

import hashlib
from pathlib import Path

from dagster import RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from orchestration.defs.raw.assets import raw_data_path

RAW_SUFFIXES = {".parquet", ".csv"}


def raw_files_fingerprint(root: Path) -> str | None:
    """A digest of every raw file's path, size and modification time; None when there are none.

    The generator's truth (_truth/) is not raw data and never triggers a build.
    """
    files = sorted(
        p for p in root.glob("*/*/*") if p.suffix in RAW_SUFFIXES and not p.parts[-3].startswith("_")
    )
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@sensor(job_name="warehouse_build", minimum_interval_seconds=60)
def raw_files_sensor(context: SensorEvaluationContext) -> SensorResult | SkipReason:
    """Requests one warehouse build per distinct state of the raw folder."""
    fingerprint = raw_files_fingerprint(raw_data_path())
    if fingerprint is None:
        return SkipReason(f"no raw files under {raw_data_path()}")
    if fingerprint == context.cursor:
        return SkipReason("raw files unchanged since the last build request")
    return SensorResult(run_requests=[RunRequest(run_key=fingerprint)], cursor=fingerprint)
