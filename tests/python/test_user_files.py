"""Nothing of the user's is ever overwritten or deleted by a command that writes or cleans.

The generator (`ciw data`, the demo's sample-data step) writes only into an empty folder or one
it made (its manifest lists every file it wrote); regenerating removes only those files. The
simulation empties only a folder it marked as its own; the benchmark deletes only a warehouse
it built. Each refusal is one line naming the folder, and the user's file is intact after it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from orchestration.cli import main as ciw
from orchestration.dbt_cli import DbtWorkspace
from orchestration.defs.raw.assets import sample_data
from orchestration.devtools.bench import bench_dbt_build
from orchestration.devtools.owned_folder import ForeignFolderError
from orchestration.devtools.sample_data import GeneratorConfig, generate
from orchestration.devtools.simulation.config import SimulationConfig
from orchestration.devtools.simulation.loop import prepare

USER_FILE = "shop/orders/my-export-2026-11-01.csv"
USER_TEXT = "order_id,customer_id\nA-1,C-1\n"


@pytest.fixture
def users_folder(tmp_path: Path) -> Path:
    """A raw folder holding the user's own export, as a newcomer bringing their data has."""
    folder = tmp_path / "my_raw"
    (folder / USER_FILE).parent.mkdir(parents=True)
    (folder / USER_FILE).write_text(USER_TEXT)
    return folder


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def assert_untouched(folder: Path) -> None:
    assert files(folder) == {USER_FILE}
    assert (folder / USER_FILE).read_text() == USER_TEXT


def test_ciw_data_refuses_a_folder_with_the_users_files(
    users_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = ciw(["data", "--customers", "20", "--seed", "3", "--quiet", "--out", str(users_folder)])
    err = capsys.readouterr().err
    print(f"\n{err}")
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err  # one line
    assert str(users_folder) in err and USER_FILE in err and "CIW_RAW_DATA_PATH" in err
    assert_untouched(users_folder)


def test_the_demos_sample_data_step_refuses_it_too(
    users_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CIW_RAW_DATA_PATH", str(users_folder))
    result = materialize(
        [sample_data],
        run_config={"ops": {"sample_data": {"config": {"customers": 20, "seed": 3}}}},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert str(users_folder) in message and USER_FILE in message
    assert_untouched(users_folder)
    # `ciw demo` checks the folder before it starts Dagster: one line, nothing run.
    assert ciw(["demo", "--customers", "20"]) == 1
    assert str(users_folder) in capsys.readouterr().err
    assert_untouched(users_folder)


def test_a_folder_the_generator_made_is_regenerated_and_only_its_files_go(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    (out / "empty_subfolder").mkdir(parents=True)  # empty folders are not the user's data
    generate(GeneratorConfig(customers=20, seed=3, out=out, quiet=True))
    manifest = json.loads((out / "_truth/manifest.json").read_text())
    assert set(manifest["written_files"]) == files(out)
    # The user drops a file into the generator's folder; a stale file the manifest lists goes.
    (out / "shop/orders/mine.csv").write_text("kept")
    stale = "shop/orders/part-00009-old.parquet"
    (out / stale).write_bytes(b"generated earlier")
    manifest["written_files"].append(stale)
    manifest["written_files"].append("../outside.txt")  # never followed out of the folder
    (tmp_path / "outside.txt").write_text("kept")
    (out / "_truth/manifest.json").write_text(json.dumps(manifest))
    generate(GeneratorConfig(customers=20, seed=4, out=out, quiet=True))
    assert (out / "shop/orders/mine.csv").read_text() == "kept"
    assert (tmp_path / "outside.txt").read_text() == "kept"
    assert not (out / stale).exists()
    assert json.loads((out / "_truth/manifest.json").read_text())["arguments"]["seed"] == 4


def test_a_run_that_died_leaves_a_folder_the_next_run_may_use(tmp_path: Path) -> None:
    """The manifest is written (incomplete) before the first row: a killed run's folder is the generator's."""
    out = tmp_path / "raw"
    (out / "_truth").mkdir(parents=True)
    (out / "shop/orders").mkdir(parents=True)
    (out / "shop/orders/part-00000.parquet").write_bytes(b"half")
    (out / "_truth/manifest.json").write_text(
        json.dumps(
            {
                "generator_version": "1.2.0",
                "complete": False,
                "written_files": ["shop/orders/part-00000.parquet"],
            }
        )
    )
    generate(GeneratorConfig(customers=20, seed=3, out=out, quiet=True))
    assert json.loads((out / "_truth/manifest.json").read_text())["persons"]["total"] > 0


def test_the_simulation_empties_only_its_own_folder(users_folder: Path) -> None:
    config = SimulationConfig(customers=100, days=7, step=7, seed=1, out=users_folder, quiet=True)
    with pytest.raises(ForeignFolderError, match="my_raw") as error:
        prepare(config)
    assert "\n" not in str(error.value)
    assert_untouched(users_folder)


def test_the_benchmark_deletes_only_a_warehouse_it_built(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"the user's warehouse")
    workspace = DbtWorkspace(raw_path=tmp_path / "raw", duckdb_path=warehouse, work_dir=tmp_path / "dbt")
    with pytest.raises(ForeignFolderError, match=r"warehouse\.duckdb"):
        bench_dbt_build(workspace, date(2026, 1, 1), fresh=True, label="first")
    assert warehouse.read_bytes() == b"the user's warehouse"
