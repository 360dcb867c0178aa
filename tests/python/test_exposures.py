"""Exposures: every consumer of the warehouse shows in the dbt lineage.

Cheap, no dbt run: reads the exposures' YAML and the syncs' destinations.yml. A channel added
to destinations.yml without an exposure (models/exposures/_syncs__exposures.yml) fails here,
and so does an exposure left behind for a channel that was removed.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.syncs.config import load_config

ROOT = Path(__file__).resolve().parents[2]
EXPOSURES = ROOT / "models" / "exposures"


def _exposures(name: str) -> list[dict]:
    document = yaml.safe_load((EXPOSURES / name).read_text(encoding="utf-8")) or {}
    return document.get("exposures") or []


def test_every_sync_channel_has_an_exposure_reading_customer_treatments() -> None:
    channels = set(load_config(environ={}).channels)
    exposures = {entry["meta"]["channel"]: entry for entry in _exposures("_syncs__exposures.yml")}
    print(f"channels {sorted(channels)}; exposures {sorted(exposures)}")
    assert set(exposures) == channels
    for channel, entry in exposures.items():
        # The syncs read activation.customer_treatments and nothing else (orchestration/syncs/config.py).
        assert entry["depends_on"] == ["ref('customer_treatments')"], channel
        assert entry["type"] == "application"


def test_semantic_layer_exposure_depends_on_every_semantic_model() -> None:
    """Each model a semantic model is defined on is a dependency of the semantic layer's exposure."""
    [exposure] = _exposures("_semantic_layer__exposures.yml")
    models = set()
    for path in (ROOT / "models").rglob("*__semantic_models.yml"):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("semantic_models") or []:
            models.add(entry["model"])
    print(f"semantic models on {sorted(models)}")
    assert models
    assert models | {"ref('metricflow_time_spine')"} == set(exposure["depends_on"])
