"""Static checks of the dbt Python models: thin, and every setting they read reaches them.

dbt hands a Python model only the config keys it reads with a literal `dbt.config.get("key")`
(it parses the file for those calls); a key read any other way, e.g. through a helper that
builds the name, is silently None and the setting falls back to its Python default. So each
model must name its keys, and each key must be set in the model's YAML config.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
import yaml

from orchestration.statistics.needs.segmentation import FitSettings
from orchestration.statistics.uplift.model import UpliftSettings

ROOT = Path(__file__).resolve().parents[2]
PYTHON_MODELS = sorted((ROOT / "models").rglob("*.py"))
MAX_LINES = 60


def config_keys_read(path: Path) -> set[str]:
    """Literal arguments of dbt.config.get(...) calls in a model file."""
    keys = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and ast.unparse(node.func.value) == "dbt.config"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.add(node.args[0].value)
    return keys


def yaml_config(model: str) -> dict:
    """The config block of a model's YAML entry."""
    for path in (ROOT / "models").rglob("*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in document.get("models", []) or []:
            if entry.get("name") == model:
                return entry.get("config", {}) or {}
    raise AssertionError(f"no YAML entry for {model}")


@pytest.mark.parametrize("path", PYTHON_MODELS, ids=lambda path: path.name)
def test_python_models_are_thin(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)}: {lines} lines; move the logic into orchestration/"


@pytest.mark.parametrize("model", ["uplift_scores", "uplift_model_evaluation"])
def test_uplift_models_read_every_setting_literally(model: str) -> None:
    [path] = [path for path in PYTHON_MODELS if path.stem == model]
    expected = {f"uplift_{field.name}" for field in dataclasses.fields(UpliftSettings)}
    assert config_keys_read(path) == expected
    assert expected <= set(yaml_config(model))


def test_needs_fit_reads_every_setting_literally() -> None:
    [path] = [path for path in PYTHON_MODELS if path.stem == "needs_segment_fit_history"]
    keys = config_keys_read(path)
    assert len(keys) == len(dataclasses.fields(FitSettings))
    assert all(key.startswith("needs_") for key in keys)
    assert keys <= set(yaml_config("needs_segment_fit_history"))


def test_clv_calibration_reads_its_settings_literally() -> None:
    """clv_calibration refits clv_model_fit's model: each key it reads is a literal meta_get call
    and is set in its YAML meta (the pattern of the CLV models)."""
    [path] = [path for path in PYTHON_MODELS if path.stem == "clv_calibration"]
    keys = {
        node.args[0].value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "meta_get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert {"clv_model", "clv_fit_method"} <= keys
    assert keys <= set(yaml_config("clv_calibration")["meta"])
