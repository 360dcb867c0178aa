"""Read the warehouse for the report: read-only, by schema-qualified name, absent tables allowed.

The report runs after a build, possibly a partial one (a failed layer, an optional model not
built yet), so every read first asks whether the relation exists and the sections say what
is missing instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from orchestration.validation.connection import read_only_connection


@dataclass
class Warehouse:
    """A read-only connection with the questions every section asks (exists? provided? as of?)."""

    path: Path
    connection: duckdb.DuckDBPyConnection
    _relations: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, path: Path) -> Warehouse:
        if not path.exists():
            raise FileNotFoundError(f"No warehouse at {path}: run `make demo` (or `make build`) first.")
        connection = read_only_connection(path)
        relations = {
            f"{schema}.{name}"
            for schema, name in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        return cls(path, connection, relations)

    def close(self) -> None:
        self.connection.close()

    def has(self, relation: str) -> bool:
        """Whether `schema.name` exists in this build."""
        return relation in self._relations

    def columns(self, relation: str) -> set[str]:
        schema, name = relation.split(".", 1)
        rows = self.connection.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
        return {row[0] for row in rows}

    def frame(self, sql: str, parameters: list[object] | None = None) -> pd.DataFrame:
        return self.connection.execute(sql, parameters or []).df()

    def scalar(self, sql: str, parameters: list[object] | None = None) -> object:
        row = self.connection.execute(sql, parameters or []).fetchone()
        return None if row is None else row[0]

    def as_of_date(self) -> str | None:
        """The build's as-of date (audit.audit__as_of), the date every caption states."""
        if not self.has("audit.audit__as_of"):
            return None
        value = self.scalar("select max(as_of_date) from audit.audit__as_of")
        return None if value is None else str(value)

    def source_tables(self) -> dict[str, bool]:
        """raw table (source.table) -> provided, from audit.audit__source_tables; {} when not built."""
        if not self.has("audit.audit__source_tables"):
            return {}
        rows = self.connection.execute(
            "select raw_table, is_provided from audit.audit__source_tables order by raw_table"
        ).fetchall()
        return {name: bool(provided) for name, provided in rows}

    def missing_sources(self, *raw_tables: str) -> list[str]:
        """Of these raw tables, the ones this build was not given (unknown tables count as given)."""
        provided = self.source_tables()
        return [name for name in raw_tables if provided.get(name) is False]


def project_var(name: str, default: object = None) -> object:
    """A dbt var as dbt_project.yml sets it: configured values the warehouse does not record.

    A `--vars` override given to one build is not visible here; captions say "configured".
    """
    from orchestration.dbt_cli import PROJECT_DIR

    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text()) or {}
    value = (project.get("vars") or {}).get(name)
    return default if value is None else value
