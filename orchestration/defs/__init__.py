"""Dagster code, grouped by integration: dbt (the warehouse's layers), raw (the raw files and their
sensor), checks (Great Expectations suites as blocking asset checks) and syncs (reverse-ETL
assets downstream of what they send). `orchestration.definitions` puts them together."""
