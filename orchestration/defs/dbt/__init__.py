"""dbt integration: the project, how its nodes map to Dagster assets, and the assets."""
