"""The raw data contract is written twice: in orchestration/contract.py for the
generator and in the sources' YAML for dbt and its docs. They must agree."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.contract import RAW_TABLES

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _documented_tables() -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    for path in sorted(PROJECT_DIR.glob("models/staging/*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            # The warehouse's own previous output (source previous_build) is a source but not raw data.
            if (source.get("config") or {}).get("meta", {}).get("raw_contract") is False:
                continue
            for table in source["tables"]:
                tables[f"{source['name']}.{table['name']}"] = [c["name"] for c in table["columns"]]
    return tables


def test_sources_yaml_documents_exactly_the_contract() -> None:
    documented = _documented_tables()
    assert set(documented) == {t.qualified_name for t in RAW_TABLES}
    for table in RAW_TABLES:
        assert documented[table.qualified_name] == table.column_names, table.qualified_name


def test_every_contract_column_has_a_description() -> None:
    for table in RAW_TABLES:
        for column in table.columns:
            assert column.description.strip(), f"{table.qualified_name}.{column.name}"


def test_every_raw_table_has_a_staging_model_and_a_base_model() -> None:
    for table in RAW_TABLES:
        folder = PROJECT_DIR / "models" / "staging" / table.source
        assert (folder / f"stg_{table.source}__{table.name}.sql").exists()
        assert (folder / "base" / f"base_{table.source}__{table.name}.sql").exists()
