"""A warehouse rebuilt from scratch resends nothing: the sync state lives beside the exports.

The scenario an operator meets: build, sync every channel, lose the warehouse (a new machine,
`rm data/warehouse.duckdb`), build it again from the same raw files with dbt, sync again. The
channels must receive nothing (0 added, changed, removed), because the rebuilt activation rows
are the ones they already hold. Then a real change (one treatment's offer edited, one customer's
row gone) sends exactly that change. The first build is the privacy scenario's (conftest
`erasure_scenario`: 300 customers with faults, every model, before its withdrawal and erasure
request), copied; the rebuild is small (only what activation needs, `dbt seed` + `dbt run`, no
Dagster) from the same raw files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.syncs.config import SOURCE_COLUMNS, SyncConfig, load_config
from orchestration.syncs.runner import SyncResult, run_all_syncs

pytestmark = pytest.mark.slow

# Seeds, then activation and everything it reads (as the simulation's steps build it): the
# models only, their tests are other modules' business; a plain dbt rebuild, no Dagster.
SEED = ["seed"]
RUN = ["run", "--select", "+customer_treatments"]
COUNTERS = ("added", "changed", "removed")


def build(workspace: DbtWorkspace) -> None:
    for args in (SEED, RUN):
        result = run_dbt(args, workspace)
        assert result.returncode == 0, result.stdout[-6000:]


def sent(results: list[SyncResult]) -> dict[str, int]:
    return {counter: sum(result.total(counter) for result in results) for counter in COUNTERS}


def treatments(warehouse: Path) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            f"select {', '.join(SOURCE_COLUMNS)} from activation.customer_treatments "
            "order by customer_key, treatment_code, channel"
        ).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def world(
    erasure_scenario, tmp_path_factory: pytest.TempPathFactory
) -> tuple[DbtWorkspace, SyncConfig, Path]:
    """A warehouse built once from scratch and never synced: the privacy scenario's first build."""
    root = tmp_path_factory.mktemp("sync_rebuild")
    for suffix in ("", ".wal"):
        first = erasure_scenario.first_warehouse.with_name(erasure_scenario.first_warehouse.name + suffix)
        if first.exists():
            shutil.copy2(first, root / f"warehouse.duckdb{suffix}")
    # The raw files are only read: the rebuild reads the very files the first build read.
    workspace = DbtWorkspace(erasure_scenario.first_raw, root / "warehouse.duckdb", root / "dbt")
    config = load_config(environ={"CIW_SYNC_EXPORTS_PATH": str(root / "exports")})
    return workspace, config, root / "exports"


def test_a_warehouse_rebuilt_from_scratch_resends_nothing_and_a_real_change_only_itself(world) -> None:
    workspace, config, exports = world
    warehouse = workspace.duckdb_path  # built already (the fixture)
    first = run_all_syncs(warehouse, config, run_id="before-rebuild")
    before = treatments(warehouse)
    sendable = int((~before.is_holdout.astype(bool)).sum())
    assert all(result.ok for result in first)
    assert sent(first) == {"added": sendable, "changed": 0, "removed": 0} and sendable > 50
    assert config.state_path == exports / "_sync_state.duckdb" and config.state_path.exists()

    # The warehouse is lost and rebuilt from the same raw files; the state store stays.
    warehouse.unlink()
    warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)
    build(workspace)
    after = treatments(warehouse)
    pd.testing.assert_frame_equal(before, after)  # the same rows: nothing to tell the channels
    second = run_all_syncs(warehouse, config, run_id="after-rebuild")
    print(f"\nfirst sync {sent(first)}; after a rebuild from scratch {sent(second)}")
    assert all(result.ok for result in second)
    assert sent(second) == {"added": 0, "changed": 0, "removed": 0}
    assert not list(exports.glob("*/after-rebuild.*"))  # no file: nothing changed

    # A real change: one sent row gets another offer, another sent row disappears.
    treated = after[~after.is_holdout.astype(bool)]
    edited, gone = treated.iloc[0], treated.iloc[1]
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "update activation.customer_treatments set offer_code = 'EDITED' where assignment_id = ?",
            [edited.assignment_id],
        )
        con.execute(
            "delete from activation.customer_treatments where assignment_id = ?", [gone.assignment_id]
        )
    finally:
        con.close()
    third = run_all_syncs(warehouse, config, run_id="real-change")
    print(f"after a real change {sent(third)}")
    assert sent(third) == {"added": 0, "changed": 1, "removed": 1}
    lines = [
        line
        for path in exports.glob("*/real-change.*")
        for line in path.read_text().splitlines()[(1 if path.suffix == ".csv" else 0) :]
    ]
    assert len(lines) == 2  # exactly the two changes reached the files

    # The state store no longer holds the row that disappeared: no tombstone, nothing pending.
    store = duckdb.connect(str(config.state_path), read_only=True)
    try:
        keys = [json.loads(key) for (key,) in store.execute(
            "select row_key from sync_state where channel = ?", [gone.channel]
        ).fetchall()]  # fmt: skip
        (pending,) = store.execute("select count(*) from sync_pending").fetchone()
    finally:
        store.close()
    assert {"customer_key": gone.customer_key, "treatment_code": gone.treatment_code} not in keys
    assert len(keys) == int((treated.channel == gone.channel).sum()) - 1
    assert pending == 0
