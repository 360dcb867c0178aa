"""The Dagster definitions of the warehouse: assets by layer, blocking checks, syncs, the daily schedule, the raw-files sensor.

dagster dev -m orchestration.definitions      (make ui)
ciw demo                                      (make demo: the whole graph, headless)
"""

from __future__ import annotations

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job, in_process_executor
from dagster_dbt import DbtCliResource

from orchestration.dbt_cli import dbt_executable
from orchestration.defs.checks import build_gx_checks
from orchestration.defs.dbt.assets import previous_build_assets, warehouse_dbt_assets
from orchestration.defs.dbt.project import warehouse_project
from orchestration.defs.raw.assets import sample_data
from orchestration.defs.raw.sensors import raw_files_sensor
from orchestration.defs.syncs import sync_assets

# Great Expectations suites as blocking checks on the dbt assets they validate.
gx_checks = build_gx_checks({key for assets in warehouse_dbt_assets for key in assets.keys})

# The daily build: everything but the sample data, on whatever raw files are there: every dbt
# layer with its checks (dbt tests, Great Expectations) and whatever is added downstream.
warehouse_build = define_asset_job(
    "warehouse_build", selection=AssetSelection.all() - AssetSelection.assets(sample_data)
)
# The demo: fresh sample data, then every layer.
demo = define_asset_job("demo", selection=AssetSelection.all())

daily_warehouse_build = ScheduleDefinition(
    name="daily_warehouse_build", job=warehouse_build, cron_schedule="0 5 * * *", execution_timezone="UTC"
)

defs = Definitions(
    # The reverse-ETL syncs are downstream of activation.customer_treatments: a failed blocking
    # check on it (or anywhere upstream) means they do not run.
    # previous_build: last build's outputs read back by activation (the learning loop), not built here.
    assets=[sample_data, *warehouse_dbt_assets, *previous_build_assets, *sync_assets],
    asset_checks=gx_checks,
    jobs=[warehouse_build, demo],
    schedules=[daily_warehouse_build],
    sensors=[raw_files_sensor],
    resources={"dbt": DbtCliResource(project_dir=warehouse_project, dbt_executable=dbt_executable())},
    # Steps run one after another in the run's process: DuckDB takes one writer at a time,
    # so parallel steps would only queue, and each would re-import dbt and GX in a subprocess.
    executor=in_process_executor,
)
