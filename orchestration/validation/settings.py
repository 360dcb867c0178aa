"""Where validation reads and writes, and the thresholds people edit.

The warehouse is the file dbt writes (CIW_DUCKDB_PATH, as in profiles.yml). Validation
output (GX project, Data Docs, row-count history, latest results) goes beside it, in
`<warehouse dir>/validation/` unless CIW_VALIDATION_PATH says otherwise, so every
warehouse (the demo's, a test's, a benchmark's) keeps its own history.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from orchestration.dbt_cli import PROJECT_DIR

DEFAULT_THRESHOLDS = Path(__file__).with_name("thresholds.yml")


def warehouse_path() -> Path:
    """The DuckDB file dbt builds; a relative path is relative to the project, where dbt runs."""
    path = Path(os.environ.get("CIW_DUCKDB_PATH", "data/warehouse.duckdb"))
    return path if path.is_absolute() else PROJECT_DIR / path


def validation_dir(warehouse: Path | None = None) -> Path:
    """Where the GX project, Data Docs and row-count history of this warehouse live."""
    configured = os.environ.get("CIW_VALIDATION_PATH")
    if configured:
        return Path(configured) if Path(configured).is_absolute() else PROJECT_DIR / configured
    return (warehouse or warehouse_path()).parent / "validation"


def data_docs_index(directory: Path | None = None) -> Path:
    """The Data Docs page a person opens in a browser."""
    return (directory or validation_dir()) / "data_docs" / "index.html"


def load_thresholds(path: Path | None = None) -> Mapping[str, Any]:
    """The thresholds file: an explicit path, else CIW_VALIDATION_THRESHOLDS, else the repo's."""
    chosen = path or Path(os.environ.get("CIW_VALIDATION_THRESHOLDS") or DEFAULT_THRESHOLDS)
    with chosen.open() as handle:
        return yaml.safe_load(handle)
