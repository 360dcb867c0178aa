"""Map dbt nodes to Dagster assets: one asset group per layer folder, raw sources keyed under raw/."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator

# Folders under models/ are the layers of the design; seeds and snapshots join the layer they serve.
RESOURCE_GROUPS = {"seed": "reference", "snapshot": "customer_360", "source": "raw"}


def is_raw_source(dbt_resource_props: Mapping[str, Any]) -> bool:
    """A source of the raw data contract; previous_build (meta raw_contract: false) is not."""
    return (dbt_resource_props.get("meta") or {}).get("raw_contract") is not False


class LayerTranslator(DagsterDbtTranslator):
    """Groups assets by the layer folder a model lives in, so the UI shows the pipeline's layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source_name, name = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if not is_raw_source(dbt_resource_props):
                # The warehouse's own output of the previous build (source previous_build): keyed
                # apart from the model it names (measurement/uplift_scores), which is downstream of
                # activation; the same key would make the feedback loop a cycle in the asset graph.
                return AssetKey([source_name, name])
            return AssetKey(["raw", source_name, name])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type in RESOURCE_GROUPS:
            return RESOURCE_GROUPS[resource_type]
        fqn = dbt_resource_props["fqn"]  # [project, layer folder, ..., name]
        return fqn[1] if len(fqn) > 2 else "other"
