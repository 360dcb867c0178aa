"""Every dbt model, seed and snapshot as a Dagster asset; every dbt test as an asset check.

The project is built one layer per step (staging, customer_360, marts, activation,
measurement, then anything left over) rather than in one `dbt build`, so each
layer's Great Expectations checks run between its dbt step and the next layer's:
a blocking check that fails on a layer makes Dagster skip every later step.
A layer is what its folder needs: `+path:models/marts` brings in the marts'
intermediate models and seeds, minus whatever an earlier layer already built.
"""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition, AssetSpec
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_dbt.utils import select_unique_ids

from orchestration.dbt_cli import PROJECT_DIR
from orchestration.defs.dbt.as_of import AS_OF_MODEL, as_of_args
from orchestration.defs.dbt.project import warehouse_project
from orchestration.defs.dbt.translator import LayerTranslator, is_raw_source
from orchestration.defs.retries import LOCK_RETRY_POLICY, final_failure
from orchestration.validation.settings import warehouse_path
from orchestration.warehouse_lock import (
    WarehouseLockedError,
    lock_error_in,
    locked_message,
    wait_until_writable,
)

# DuckDB lets one process write the file at a time: dbt steps queue on one pool.
DUCKDB_POOL = "duckdb_writer"


@dataclass(frozen=True)
class Layer:
    """One pipeline layer: a name (the Dagster op is dbt_<name>) and the project folders it builds.

    Its dbt selection is each folder with everything upstream of it (`+path:<folder>`);
    no folders means everything, for the catch-all last layer.
    """

    name: str
    folders: tuple[str, ...] = ()

    @property
    def select(self) -> str:
        existing = [folder for folder in self.folders if (PROJECT_DIR / folder).is_dir()]
        if not self.folders:
            return "fqn:*"
        return " ".join(f"+path:{folder}" for folder in existing)


# Pipeline order. A folder that does not exist yet gives no step.
LAYERS: tuple[Layer, ...] = (
    # The audit models (quarantine, reconciliation) are read by the staging checks: same step.
    Layer("staging", ("models/staging", "models/audit")),
    Layer("customer_360", ("models/customer_360", "snapshots")),
    Layer("marts", ("models/marts",)),
    Layer("activation", ("models/activation",)),
    Layer("measurement", ("models/measurement",)),
    # Models, seeds or snapshots no layer above needs (a new folder, an unused seed).
    Layer("other"),
)


@dataclass(frozen=True)
class LayerPlan:
    """What one layer's dbt step builds: its nodes, and the tests it must leave to a later step."""

    name: str
    nodes: tuple[str, ...]
    deferred_tests: tuple[str, ...]


BUILDABLE = {"model", "seed", "snapshot"}


@cache
def _manifest() -> dict[str, Any]:
    return json.loads(warehouse_project.manifest_path.read_text())


def _selected(select: str, exclude: str) -> set[str]:
    if not select:
        return set()
    ids = select_unique_ids(
        select=select, exclude=exclude, selector="", project=warehouse_project, manifest_json=_manifest()
    )
    return {unique_id for unique_id in ids if unique_id.split(".")[0] in BUILDABLE}


def plan_layers(layers: Sequence[Layer] = LAYERS) -> list[LayerPlan]:
    """Assign every model, seed and snapshot to the first layer that needs it; drop empty layers.

    dbt's default (eager) test selection runs a test with the first layer that builds any
    of its parents. A test that also reads a later layer's node (a relationships test
    from a mart to an activation table, a singular test across layers) would fail there
    on a table not built yet: it is excluded from that step and runs with the later one.
    """
    manifest = _manifest()
    layer_of: dict[str, int] = {}
    earlier: list[str] = []
    for index, layer in enumerate(layers):
        for unique_id in _selected(layer.select, " ".join(earlier)):
            layer_of.setdefault(unique_id, index)
        if layer.select:
            earlier.append(layer.select)
    plans = []
    for index, layer in enumerate(layers):
        nodes = sorted(manifest["nodes"][u]["name"] for u, i in layer_of.items() if i == index)
        if not nodes:
            continue
        deferred = []
        for test in manifest["nodes"].values():
            if test["resource_type"] != "test":
                continue
            parents = [layer_of[p] for p in test["depends_on"]["nodes"] if p in layer_of]
            if index in parents and max(parents) > index:
                deferred.append(test["name"])
        plans.append(LayerPlan(layer.name, tuple(nodes), tuple(sorted(deferred))))
    return plans


def _layer_assets(plan: LayerPlan) -> AssetsDefinition:
    # The layer is selected by its nodes' names, not as `+path:... --exclude <earlier layers>`:
    # an exclusion also drops, as asset checks, the tests that join a node to an earlier layer
    # (a relationships test from intermediate to staging), and those are this layer's tests.
    @dbt_assets(
        manifest=warehouse_project.manifest_path,
        project=warehouse_project,
        select=" ".join(plan.nodes),
        exclude=" ".join(plan.deferred_tests),
        name=f"dbt_{plan.name}",
        dagster_dbt_translator=LayerTranslator(),
        pool=DUCKDB_POOL,
        retry_policy=LOCK_RETRY_POLICY,
    )
    def _build(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        # dbt opens the warehouse itself: wait here while another process (a manual dbt build)
        # holds it, instead of letting dbt fail on the lock (retried by LOCK_RETRY_POLICY).
        warehouse = warehouse_path()
        wait_until_writable(warehouse)
        # Every step of a run builds as of the date the staging step resolved (defs/dbt/as_of.py).
        extra = as_of_args(builds_as_of_model=AS_OF_MODEL in plan.nodes)
        if extra:
            context.log.info(f"dbt {plan.name}: as of the date staging resolved: {' '.join(extra)}")
        # dbt unit tests check SQL logic on fixtures, not the day's data: they belong to CI
        # (`make test`) and development, as dbt recommends, not to every scheduled build.
        invocation = dbt.cli(
            ["build", "--exclude-resource-type", "unit_test", *extra], context=context, raise_on_error=False
        )
        yield from invocation.stream()
        error = invocation.get_error()
        if error is not None:
            locked = lock_error_in(str(error))
            if locked is not None:  # lost the race between the wait and dbt's own open: retried
                raise WarehouseLockedError(*locked_message(warehouse, locked))
            raise final_failure(str(error))

    return _build


def build_layer_assets(layers: Sequence[Layer] = LAYERS) -> list[AssetsDefinition]:
    """One dbt multi-asset per layer that has anything to build, in pipeline order."""
    return [_layer_assets(plan) for plan in plan_layers(layers)]


def previous_build_specs() -> list[AssetSpec]:
    """The previous build's outputs a build reads back (dbt source previous_build), as external assets.

    Their keys differ from the models they name (LayerTranslator). Declaring them keeps Dagster
    from resolving the undefined dependency by its table name to that very model
    (measurement/uplift_scores), which would turn the learning loop into a cycle.
    """
    translator = LayerTranslator()
    return [
        AssetSpec(
            translator.get_asset_key(source),
            description=source.get("description") or None,
            group_name="measurement",
        )
        for source in _manifest()["sources"].values()
        if not is_raw_source(source)
    ]


warehouse_dbt_assets: list[AssetsDefinition] = build_layer_assets()
previous_build_assets: list[AssetSpec] = previous_build_specs()
