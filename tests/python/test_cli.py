"""The one command-line entry: every subcommand reaches its module's `main`."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.cli import SUBCOMMANDS, main


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"  {name} " in out


def test_an_unknown_subcommand_is_refused_with_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bild"]) == 2
    err = capsys.readouterr().err
    assert "unknown subcommand 'bild'" in err and "demo" in err


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_each_subcommand_module_has_a_main_taking_argv(name: str) -> None:
    module = importlib.import_module(SUBCOMMANDS[name][0])
    assert callable(module.main)
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0


def test_the_installed_script_and_python_dash_m_agree(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration",
            "data",
            "--customers",
            "20",
            "--seed",
            "3",
            "--quiet",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "_truth" / "manifest.json").exists()
