"""The suites, one module per layer or mart: each module here defines `SUITES`, a tuple of TableSuite.

Adding validation for a new layer (activation, measurement) is one new module in this
folder; nothing else needs to change: the runner, the Dagster checks and the summary
find it here. A suite whose table is not in the warehouse (or not in the dbt project)
yet is reported as skipped ("table not built").
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from orchestration.validation.suite import TableSuite, layer_rank


@cache
def all_suites() -> tuple[TableSuite, ...]:
    """Every TableSuite of every module in this package, in pipeline (layer) order."""
    found: list[TableSuite] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found.extend(getattr(module, "SUITES", ()))
    tables = [suite.table for suite in found]
    duplicates = {table for table in tables if tables.count(table) > 1}
    if duplicates:
        raise ValueError(f"tables validated by more than one suite: {sorted(duplicates)}")
    return tuple(sorted(found, key=lambda suite: layer_rank(suite.layer)))


def suites_for(layer: str | None = None) -> tuple[TableSuite, ...]:
    return tuple(suite for suite in all_suites() if layer is None or suite.layer == layer)
