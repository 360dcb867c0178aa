"""Great Expectations validation of the warehouse, layer by layer.

- `suites/`: one module per layer or mart, each a tuple of `TableSuite`s (code, in the repo).
- `thresholds.yml`: every threshold and severity people tune, in one file.
- `frames.py`: how a table is read in bounded memory (projection, hash-ordered capped
  sample, aggregates computed in DuckDB); GX validates those small pandas frames.
- `runner.py`: runs suites, keeps row-count history, builds Data Docs.
- `connection.py`: read-only DuckDB access that waits for a writer to let go.
- `checks.py`: the suites as blocking Dagster asset checks on the dbt assets.

`python -m orchestration.validation` validates the warehouse at CIW_DUCKDB_PATH.
"""
