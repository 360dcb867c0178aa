"""Identical reruns and superseded versions, end to end (issue 15; docs/scale.md, docs/staging-rules.md).

One small dataset (300 customers, faults planted) plus a later raw file that re-sends service
cases resolved which the first export had open, built twice with `dbt build` on the same data
at the profile's default thread count (so thread scheduling varies between the builds):

- the two builds leave identical tables in every output schema, row for row, and no temporary
  relation (`__dbt_tmp`, `__dbt_backup`) behind in any schema;
- the resolved version of each re-sent case is staged, its open version is quarantined as
  `superseded` (not `duplicate`), and its customer is no longer suppressed as `open_complaint`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.bench import latest_order_date
from orchestration.devtools.sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.slow

# Every schema whose tables a BI tool, a channel or an auditor reads.
COMPARED_SCHEMAS = ("customer_360", "marts", "activation", "measurement", "audit")
RESENT_CASES = 12
# clv_model_fit keeps one fit per model and as-of date; these columns record when and for how
# long the fit ran (the wall clock, docs/scale.md), so they differ between runs by nature.
WALL_CLOCK_COLUMNS = {("marts", "clv_model_fit"): ("fit_id", "fitted_at", "fit_seconds")}


@dataclass(frozen=True)
class Reruns:
    first: Path
    second: Path
    resent: list[tuple[str, str]]  # (case_id, customer_id): open in the first export, resolved later
    still_open: tuple[str, str]  # open in the first export, never re-sent: the control


def _resend_cases_resolved(raw: Path) -> tuple[list[tuple[str, str]], tuple[str, str]]:
    """Turn some resolved cases into an open first export plus a later file resolving them.

    The generator's file gets the open version of each chosen case (no resolution, no
    satisfaction), as the export of a day when the case was still open would; a later file
    (part-00002-resent, sorting after every generator file) re-sends all but the last of them
    as they are now, resolved. The last one stays open: the control. The chosen resolutions
    are days before the as-of date, so they are known on it.
    """
    folder = raw / "crm" / "service_cases"
    as_of = latest_order_date(raw, "parquet")
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        f"create table cases as select * from read_parquet('{folder}/*.parquet', union_by_name = true)"
    )
    chosen = con.execute(
        """
        select case_id, any_value(customer_id)
        from cases
        group by case_id
        having count(*) = 1
            and max(resolved_at) is not null
            and max(resolved_at) < ?::date - interval 3 day
            and max(satisfaction) between 1 and 5
            and max(resolved_at) >= max(opened_at)
        order by md5(case_id)
        limit ?
        """,
        [as_of, RESENT_CASES + 1],
    ).fetchall()
    assert len(chosen) == RESENT_CASES + 1, "too few resolved cases to re-send"
    resent, control = chosen[:-1], chosen[-1]
    con.execute("create table chosen (case_id varchar)")
    con.executemany("insert into chosen values (?)", [(case_id,) for case_id, _ in chosen])
    con.execute(
        f"copy (select * from cases where list_contains(?, case_id)) to '{folder}/part-00002-resent.parquet'",
        [[case_id for case_id, _ in resent]],
    )
    files = sorted(folder.glob("part-0000[01]*.parquet"))
    for file in files:
        con.execute(
            f"""
            copy (
                select * replace (
                    case when case_id in (select case_id from chosen) then null else resolved_at end as resolved_at,
                    case when case_id in (select case_id from chosen) then null else satisfaction end as satisfaction
                )
                from read_parquet('{file}')
            ) to '{file}.rewritten' (format parquet)
            """
        )
    con.close()
    for file in files:
        Path(f"{file}.rewritten").replace(file)
    return resent, control


@pytest.fixture(scope="module")
def reruns(tmp_path_factory: pytest.TempPathFactory) -> Reruns:
    root = tmp_path_factory.mktemp("reruns")
    raw = root / "raw"
    generate(GeneratorConfig(customers=300, seed=13, out=raw, faults=True))
    resent, still_open = _resend_cases_resolved(raw)
    workspace = DbtWorkspace(raw, root / "warehouse.duckdb", root / "dbt")
    first = run_dbt(["build"], workspace)
    assert first.returncode == 0, first.stdout[-6000:]
    first_copy = root / "first.duckdb"
    shutil.copyfile(workspace.duckdb_path, first_copy)
    second = run_dbt(["build"], workspace)
    assert second.returncode == 0, second.stdout[-6000:]
    return Reruns(first=first_copy, second=workspace.duckdb_path, resent=resent, still_open=still_open)


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> set[tuple[str, str]]:
    return {
        (schema, table)
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?", [database]
        ).fetchall()
        if schema in COMPARED_SCHEMAS
    }


def test_two_builds_of_the_same_data_are_identical(reruns: Reruns) -> None:
    con = duckdb.connect()
    con.execute(f"attach '{reruns.first}' as first_build (read_only)")
    con.execute(f"attach '{reruns.second}' as second_build (read_only)")
    tables = _tables(con, "first_build")
    assert tables == _tables(con, "second_build")
    assert len(tables) >= 25, sorted(tables)
    differing = {}
    for schema, table in sorted(tables):
        excluded = WALL_CLOCK_COLUMNS.get((schema, table), ())
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() where database_name = 'first_build' "
                "and schema_name = ? and table_name = ? order by column_index",
                [schema, table],
            ).fetchall()
            if name not in excluded
        ]
        selected = ", ".join(f'"{name}"' for name in columns)
        # A multiset comparison: order-independent, exact (floats bit for bit).
        only = [
            con.execute(
                f'select count(*) from (select {selected} from {a}."{schema}"."{table}" '
                f'except all select {selected} from {b}."{schema}"."{table}")'
            ).fetchone()[0]
            for a, b in (("first_build", "second_build"), ("second_build", "first_build"))
        ]
        if any(only):
            differing[f"{schema}.{table}"] = only
    assert not differing, f"rows only in the first / second build: {differing}"


def test_no_temporary_relations_are_left_behind(reruns: Reruns) -> None:
    con = duckdb.connect(str(reruns.second), read_only=True)
    leftovers = con.execute(
        """
        select schema_name, table_name from duckdb_tables()
        where table_name like '%\\_\\_dbt\\_tmp%' escape '\\' or table_name like '%\\_\\_dbt\\_backup%' escape '\\'
        union all
        select schema_name, view_name from duckdb_views()
        where view_name like '%\\_\\_dbt\\_tmp%' escape '\\' or view_name like '%\\_\\_dbt\\_backup%' escape '\\'
        """
    ).fetchall()
    assert leftovers == []


def test_a_case_resent_resolved_supersedes_its_open_version(reruns: Reruns) -> None:
    con = duckdb.connect(str(reruns.second), read_only=True)
    case_ids = [case_id for case_id, _ in reruns.resent]
    staged = dict(
        con.execute(
            "select case_id, is_open from staging.stg_crm__service_cases where list_contains(?, case_id)",
            [case_ids],
        ).fetchall()
    )
    assert staged == dict.fromkeys(case_ids, False)
    quarantined = con.execute(
        """
        select raw_key, quarantine_reason, quarantine_detail from audit.audit__quarantine
        where source_name = 'crm' and table_name = 'service_cases' and list_contains(?, raw_key)
        """,
        [case_ids],
    ).fetchall()
    assert sorted(quarantined) == sorted(
        (case_id, "superseded", "newer version staged") for case_id in case_ids
    )


def test_customers_whose_cases_were_resolved_are_not_suppressed(reruns: Reruns) -> None:
    con = duckdb.connect(str(reruns.second), read_only=True)
    customer_ids = sorted({customer_id for _, customer_id in reruns.resent})
    keys = con.execute(
        """
        select distinct account_keys.customer_key
        from intermediate.int_identity__account_keys as account_keys
        where list_contains(?, account_keys.customer_id)
            -- A person may have another account with a case that is still open.
            and not exists (
                select 1
                from intermediate.int_customer__service_cases as cases
                where cases.customer_key = account_keys.customer_key and cases.is_open
            )
        """,
        [customer_ids],
    ).fetchall()
    keys = [key for (key,) in keys]
    assert len(keys) >= RESENT_CASES // 2
    suppressed = con.execute(
        """
        select customer_key from activation.treatment_exclusions
        where exclusion_reason = 'open_complaint' and list_contains(?, customer_key)
        union all
        select customer_key from intermediate.int_activation__suppressions
        where suppression_reason = 'open_complaint' and list_contains(?, customer_key)
        """,
        [keys, keys],
    ).fetchall()
    assert suppressed == []
    # The rule is live in this build: the customer whose case was never re-sent stays suppressed.
    case_id, customer_id = reruns.still_open
    assert con.execute(
        "select is_open from staging.stg_crm__service_cases where case_id = ?", [case_id]
    ).fetchall() == [(True,)]
    control = con.execute(
        """
        select suppressions.suppression_reason
        from intermediate.int_activation__suppressions as suppressions
        inner join intermediate.int_identity__account_keys as account_keys
            on suppressions.customer_key = account_keys.customer_key
        where account_keys.customer_id = ?
        """,
        [customer_id],
    ).fetchall()
    assert ("open_complaint",) in control
