"""run_dbt's shared parse (orchestration/dbt_cli.py): every workspace is reached through the same
links, so dbt's partial parse carries over between workspaces; nothing of one workspace may
leak into another, and DuckDB's write-ahead log must follow its warehouse."""

from __future__ import annotations

from pathlib import Path

from orchestration.dbt_cli import DbtWorkspace, _vars_of, shared_parse_environment


def _workspace(root: Path) -> DbtWorkspace:
    (root / "raw").mkdir(parents=True)
    return DbtWorkspace(root / "raw", root / "warehouse.duckdb", root / "dbt")


def test_links_lead_to_each_workspace_and_nothing_carries_over(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    first, second = _workspace(tmp_path / "a"), _workspace(tmp_path / "b")
    # A warehouse copied with its write-ahead log (DuckDB reads it beside the path it is given).
    first.duckdb_path.write_bytes(b"db")
    own_wal = first.duckdb_path.with_name("warehouse.duckdb.wal")
    own_wal.write_bytes(b"log")
    with shared_parse_environment(first, shared) as env:
        assert Path(env["CIW_RAW_DATA_PATH"]).resolve() == first.raw_path.resolve()
        assert Path(env["CIW_DUCKDB_PATH"]).resolve() == first.duckdb_path.resolve()
        assert Path(env["CIW_DUCKDB_PATH"] + ".wal").read_bytes() == b"log" and not own_wal.exists()
        target = Path(env["DBT_TARGET_PATH"])
        target.mkdir(parents=True, exist_ok=True)
        (target / "run_results.json").write_text("{}")
    assert own_wal.read_bytes() == b"log"
    assert (first.work_dir / "target" / "run_results.json").read_text() == "{}"
    with shared_parse_environment(second, shared) as env:
        # The same links and target folder (the same parse), now to the second workspace.
        assert env["DBT_TARGET_PATH"] == str(target) and env["CIW_DUCKDB_PATH"].startswith(str(shared))
        assert Path(env["CIW_DUCKDB_PATH"]).resolve() == second.duckdb_path.resolve()
        assert not Path(env["CIW_DUCKDB_PATH"] + ".wal").exists()
        assert not (target / "run_results.json").exists(), (
            "the first workspace's results would pass for its own"
        )


def test_each_vars_text_gets_its_own_parse(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "a")
    folders = set()
    for args in (
        ["build"],
        ["run", "--vars", "{as_of: '2026-01-01'}"],
        ["run", "--vars={as_of: '2026-01-02'}"],
    ):
        with shared_parse_environment(workspace, tmp_path / "shared", args) as env:
            folders.add(env["DBT_TARGET_PATH"])
    assert len(folders) == 3
    assert _vars_of(["build", "--vars", "{a: 1}"]) == "{a: 1}" and _vars_of(["seed"]) == ""
