"""Shared fixtures for the Python tests.

Sample datasets are generated once per test session (they are deterministic, so sharing them
between tests is safe) into pytest's temporary directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.sample_data import GeneratorConfig, generate


def _generate(root: Path, name: str, **kwargs) -> Path:
    out = root / name
    generate(GeneratorConfig(out=out, **kwargs))
    return out


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample_data")


@pytest.fixture(scope="session")
def clean_raw(sample_root: Path) -> Path:
    """500 registered customers, seed 7, no faults, Parquet."""
    return _generate(sample_root, "clean", customers=500, seed=7)


@pytest.fixture(scope="session")
def faulty_raw(sample_root: Path) -> Path:
    """The same population as `clean_raw`, with faults planted."""
    return _generate(sample_root, "faulty", customers=500, seed=7, faults=True)


@pytest.fixture(scope="session")
def medium_raw(sample_root: Path) -> Path:
    """5,000 registered customers: enough persons for distributional checks."""
    return _generate(sample_root, "medium", customers=5_000, seed=11)
