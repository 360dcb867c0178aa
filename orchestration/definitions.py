"""The Dagster definitions of the warehouse: assets by layer, the daily schedule, the raw-files sensor.

dagster dev -m orchestration.definitions      (make ui)
"""

from __future__ import annotations

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job
from dagster_dbt import DbtCliResource

from orchestration.dbt.assets import warehouse_dbt_assets
from orchestration.dbt.project import warehouse_project
from orchestration.dbt_cli import dbt_executable
from orchestration.raw.assets import sample_data
from orchestration.raw.sensors import raw_files_sensor

# The daily build reads whatever raw files are there; it never regenerates sample data.
warehouse_build = define_asset_job("warehouse_build", selection=AssetSelection.assets(warehouse_dbt_assets))
# The demo: fresh sample data, then every layer.
demo = define_asset_job("demo", selection=AssetSelection.all())

daily_warehouse_build = ScheduleDefinition(
    name="daily_warehouse_build", job=warehouse_build, cron_schedule="0 5 * * *", execution_timezone="UTC"
)

defs = Definitions(
    assets=[sample_data, warehouse_dbt_assets],
    jobs=[warehouse_build, demo],
    schedules=[daily_warehouse_build],
    sensors=[raw_files_sensor],
    resources={"dbt": DbtCliResource(project_dir=warehouse_project, dbt_executable=dbt_executable())},
)
