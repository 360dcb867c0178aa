"""Shared fixtures for the Python tests.

Sample datasets are generated once per test session (they are deterministic, so sharing them
between tests is safe) into pytest's temporary directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestration.dbt_cli import PROJECT_DIR
from orchestration.devtools.sample_data import GeneratorConfig, generate


def _generate(root: Path, name: str, **kwargs) -> Path:
    out = root / name
    generate(GeneratorConfig(out=out, **kwargs))
    return out


# Session builds several modules share: under pytest-xdist (`make test` runs two workers) every
# module that uses one is sent to the same worker, so each build is made once per session.
SHARED_BUILDS = ("full_build", "experiment_demo", "erasure_scenario")


def pytest_configure(config: pytest.Config) -> None:
    """Each xdist worker parses the dbt project into a target folder of its own.

    Importing the Dagster definitions runs `dbt parse` (orchestration/defs/dbt/project.py); two
    workers parsing into the project's target/ at once would overwrite each other's manifest.
    Under `--dist loadgroup` xdist's reordering by test count is switched off (see below).
    """
    if getattr(config.option, "dist", "no") == "loadgroup":
        # xdist would hand out groups by number of tests; pytest_collection_modifyitems orders
        # them by expected time instead, longest first, so the two workers finish together.
        config.option.loadscopereorder = False
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        folder = PROJECT_DIR / "target" / f"pytest-{worker}"
        os.environ["DBT_TARGET_PATH"] = str(folder)
        os.environ["DBT_LOG_PATH"] = str(folder / "logs")


# Seconds a group takes on an idle 2-core machine (from `make test`'s slowest durations, Dec 2026),
# only to order the groups: xdist hands them out in collection order to whichever worker is free,
# so the longest go first and the short ones fill the gaps at the end (longest-processing-time
# first: the two workers finish within about the last groups' length of each other). A slow module
# not listed counts as DEFAULT_SLOW_SECONDS; a module without slow tests, as FAST_MODULE_SECONDS.
# Figures that go stale cost balance, never correctness: update them from a run's --durations.
GROUP_SECONDS = {
    "experiment_demo": 470,  # the Dagster demo run, two shape builds, the failing-check run
    "full_build": 480,  # the 3,000-customer build, the layers' tests on it, journey's two rebuilds
    "erasure_scenario": 240,  # the privacy scenario (two builds) and the sync rebuild
    "test_reruns_e2e": 260,  # four builds (two with data tests): a daily warehouse, its full refresh
    "test_simulation": 180,
    "test_uplift_planted": 130,
    "test_needs_e2e": 120,
    "test_staging_e2e": 95,
    "test_identity_e2e": 85,
    "test_measurement_e2e": 72,
    "test_value_e2e": 68,
}
DEFAULT_SLOW_SECONDS = 60
FAST_MODULE_SECONDS = 5


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Whole modules on one xdist worker, scheduled longest first; alone, unit tests first.

    A module is moved and scheduled whole (xdist_group, for `--dist loadgroup`), so its
    module-scoped build is made once; the modules that share a session build form one group.
    Modules with no slow test run before the modules that build warehouses, so a failing business
    rule shows in the first minute. Under xdist the building groups then follow by expected
    seconds, longest first (GROUP_SECONDS), so the workers finish together.
    """
    modules: dict[object, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.module, []).append(item)
    group_of: dict[object, str] = {}
    for module, module_items in modules.items():
        shared = [name for name in SHARED_BUILDS if any(name in i.fixturenames for i in module_items)]
        group = shared[0] if shared else module.__name__
        group_of[module] = group
        for item in module_items:
            item.add_marker(pytest.mark.xdist_group(group))
    slow_modules = {item.module for item in items if item.get_closest_marker("slow")}
    if getattr(config.option, "dist", "no") != "loadgroup":
        items.sort(key=lambda item: item.module in slow_modules)
        return
    seconds: dict[str, float] = {}  # a group not listed: the sum of its modules' defaults
    for module, group in group_of.items():
        default = DEFAULT_SLOW_SECONDS if module in slow_modules else FAST_MODULE_SECONDS
        seconds[group] = seconds.get(group, 0) + default
    seconds.update({group: GROUP_SECONDS[group] for group in seconds.keys() & GROUP_SECONDS.keys()})
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        first_seen.setdefault(group_of[item.module], index)
    # Unit-test modules still go first (a broken business rule shows in the first minute; they
    # take seconds), then the groups that build, longest first.
    slow_groups = {group_of[module] for module in slow_modules}

    def order(item: pytest.Item) -> tuple[bool, float, int]:
        group = group_of[item.module]
        return (group in slow_groups, -seconds[group], first_seen[group])

    items.sort(key=order)


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


@pytest.fixture(scope="session")
def effects_raw(sample_root: Path) -> Path:
    """10,000 registered customers with the planted causal effects: RCT groups of 700-3,000."""
    return _generate(sample_root, "effects", customers=10_000, seed=21)


@pytest.fixture(scope="session")
def no_effects_raw(sample_root: Path) -> Path:
    """The same population as `effects_raw` with every causal effect switched off."""
    return _generate(sample_root, "no_effects", customers=10_000, seed=21, effects=False)


@pytest.fixture(scope="session")
def full_build(tmp_path_factory: pytest.TempPathFactory):
    """The whole project built once (`dbt build`, every layer) on 3,000 customers with faults.

    Shared by the tests of the layers after the marts (activation, measurement, validation) so
    the suite builds the warehouse once instead of once per module. Tests that change it (a
    seed row, a var) must restore what they changed before they return.
    """
    from orchestration.dbt_cli import DbtWorkspace, run_dbt

    root = tmp_path_factory.mktemp("full_build")
    generate(GeneratorConfig(customers=3_000, seed=5, out=root / "raw", faults=True))
    workspace = DbtWorkspace(root / "raw", root / "warehouse.duckdb", root / "dbt")
    result = run_dbt(["build"], workspace)
    assert result.returncode == 0, result.stdout[-6000:]
    return workspace


@dataclass(frozen=True)
class DemoRun:
    """One headless run of the Dagster `demo` job and where it wrote."""

    root: Path
    raw: Path
    warehouse: Path
    exports: Path
    result: Any
    report: Any
    summary: str


@pytest.fixture(scope="session")
def experiment_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The whole asset graph run once through Dagster (`make demo SHAPE=experiment`): sample data
    of the experiment shape (a music shop's vocabulary, phone and telesales orders, an outside
    multi-arm experiment with a shared control group), every dbt layer, every check, the syncs.

    Shared by the Dagster test and the shape tests: a Dagster run pays for six dbt invocations,
    whatever the data size, so the suite makes as few as it can. 900 customers give each arm of
    the outside experiment the measurement's minimum group size. No faults: the experiment's
    observed rates are compared exactly with the generator's.
    """
    from dagster import DagsterInstance

    from orchestration.demo import run_demo
    from orchestration.summary import default_locations, summarize

    root = tmp_path_factory.mktemp("experiment_demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIW_RAW_DATA_PATH", str(root / "raw"))
        patch.setenv("CIW_DUCKDB_PATH", str(root / "warehouse.duckdb"))
        patch.delenv("CIW_VALIDATION_PATH", raising=False)
        patch.setenv("CIW_SYNC_EXPORTS_PATH", str(root / "exports"))
        result, report = run_demo(
            customers=900, seed=13, faults=False, instance=DagsterInstance.ephemeral(), shape="experiment"
        )
        locations = default_locations()
        summary = summarize(locations.warehouse, locations.raw, run=report, locations=locations)
    return DemoRun(root, root / "raw", root / "warehouse.duckdb", root / "exports", result, report, summary)


@pytest.fixture(scope="session")
def erasure_scenario(tmp_path_factory: pytest.TempPathFactory):
    """The privacy scenario (privacy_scenario.py): 300 customers with faults built, synced, an
    erasure request and a consent withdrawal written, built and synced again; with a copy of the
    first build. Shared by test_privacy_erasure and test_sync_rebuild_e2e (its rebuild from scratch).
    """
    from privacy_scenario import build_scenario

    return build_scenario(tmp_path_factory.mktemp("privacy"))
