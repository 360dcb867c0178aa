"""Daily runs, late and corrected files, identical reruns and superseded versions, end to end.

Issue 15; docs/scale.md ("Incremental models"), docs/staging-rules.md. One small dataset (300
customers, faults planted) in which service cases that an early export had open are re-sent
resolved in a later file, and the web events of two days are held back to arrive late: those
of the day before the as-of date D (inside the incremental lookback) and those of ten days before
it (outside). One warehouse is run as a company runs it, `dbt build` every day:

1. as of D - 1, the first build (built whole; models and seeds only, runs 2 and 3 run the data
   tests), before either late file has arrived;
2. as of D, a daily (incremental) run, after both late files arrived: both are picked up (the
   older one because its day's raw rows outnumber the stored ones). Then a file of day D - 20
   is corrected in place (same rows, other values), which no count reveals;
3. as of D again, with var backfill_from D - 20: the correction is picked up.

A copy of the warehouse taken after run 1 is then built as of D with `--full-refresh` (every
incremental table rebuilt whole; the histories, which keep earlier runs on purpose, stay), on the
final files, without data tests (run 3's pass on what it must equal). Then:

- the daily warehouse equals the full refresh, table for table and row for row, in every schema
  (floats bit for bit): incremental runs, a rebuild of the same day and a backfill give what a
  full build gives, whatever the thread scheduling;
- run 2 recomputed a window, not all history: the correction was not in it;
- no temporary relation (`__dbt_tmp`, `__dbt_backup`) is left in any schema;
- the resolved version of each re-sent case is staged, its open version is quarantined as
  `superseded` (not `duplicate`), and its customer is no longer suppressed as `open_complaint`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_cli import DbtWorkspace, run_dbt
from orchestration.devtools.bench import latest_order_date
from orchestration.devtools.sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.slow

# Every schema the build writes.
COMPARED_SCHEMAS = ("staging", "intermediate", "customer_360", "marts", "activation", "measurement", "audit")
RESENT_CASES = 12
# clv_model_fit keeps one fit per model and as-of date; these columns record when and for how
# long the fit ran (the wall clock, docs/scale.md), and the predictions name the fit they used:
# they differ between runs by nature.
WALL_CLOCK_COLUMNS = {"fit_id", "fitted_at", "fit_seconds", "purchase_fit_id", "spend_fit_id"}
# Incremental tables that a full refresh rebuilds with this day's rows only, where the daily
# warehouse keeps earlier days: compared on the as-of date's rows (column named).
AS_OF_ROWS = {("marts", "clv_model_fit"): "as_of_date"}
# The state of one run, not data: the web-event ids the run decided again (a full refresh
# decides every row and lists none). Checked on its own below.
RUN_STATE_TABLES = {("staging", "base_web__events_window_keys")}


@dataclass(frozen=True)
class Reruns:
    daily: Path  # the warehouse run every day: as of D - 1, then D, then D with a backfill
    after_first_daily_run: Path  # a copy of it after the run as of D (before the backfill)
    full: Path  # a copy after run 1, built as of D with --full-refresh on the final files
    late_inside: list[str]  # event ids of the late file dated D - 1 (inside the lookback)
    late_before: list[str]  # event ids of the late file dated D - 10 (before the lookback)
    late_days: tuple[date, date]  # the days of the two late files (by their local times)
    corrected: dict[str, str]  # event id -> device type after the in-place correction (day D - 20)
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


def _hold_back_events(raw: Path, day: date, held: Path) -> list[str]:
    """Take the web events dated `day` out of the raw files, into `held`: that day's late file.

    Returns their event ids.
    """
    folder = raw / "web" / "events"
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    chosen = f"""
        cast(try_cast(occurred_at as timestamp) as date) = date '{day.isoformat()}'
        and event_id is not null
    """
    con.execute(
        f"copy (select * from read_parquet('{folder}/*.parquet', union_by_name = true) where {chosen}) "
        f"to '{held}' (format parquet)"
    )
    for file in sorted(folder.glob("*.parquet")):
        con.execute(
            f"copy (select * from read_parquet('{file}') where not coalesce({chosen}, false)) "
            f"to '{file}.rewritten' (format parquet)"
        )
        Path(f"{file}.rewritten").replace(file)
    event_ids = [
        event_id for (event_id,) in con.execute(f"select event_id from read_parquet('{held}')").fetchall()
    ]
    con.close()
    assert len(event_ids) >= 5, f"too few web events on {day} to hold back"
    return event_ids


def _correct_in_place(raw: Path, day: date) -> dict[str, str]:
    """Rewrite the device type of every web event dated `day` in its own file (a corrected export).

    Same files, same row counts: only a backfill can tell. Returns event id -> new device type.
    """
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    corrected: dict[str, str] = {}
    on_day = f"cast(try_cast(occurred_at as timestamp) as date) = date '{day.isoformat()}' and event_id is not null"
    swap = "case when lower(device_type) = 'desktop' then 'tablet' else 'desktop' end"
    for file in sorted((raw / "web" / "events").glob("*.parquet")):
        corrected.update(
            con.execute(f"select event_id, {swap} from read_parquet('{file}') where {on_day}").fetchall()
        )
        con.execute(
            f"copy (select * replace (case when {on_day} then {swap} else device_type end as device_type) "
            f"from read_parquet('{file}')) to '{file}.rewritten' (format parquet)"
        )
        Path(f"{file}.rewritten").replace(file)
    con.close()
    assert len(corrected) >= 5, f"too few web events on {day} to correct"
    return corrected


def _build(
    workspace: DbtWorkspace,
    as_of: date,
    *,
    full_refresh: bool = False,
    data_tests: bool = True,
    **extra_vars: str,
) -> None:
    variables = json.dumps({"as_of": as_of.isoformat(), **extra_vars})
    args = ["build", "--vars", variables, *(["--full-refresh"] if full_refresh else [])]
    if not data_tests:
        args += ["--exclude-resource-type", "test", "unit_test"]  # the flag replaces the environment's
    result = run_dbt(args, workspace)
    assert result.returncode == 0, result.stdout[-6000:]


@pytest.fixture(scope="module")
def reruns(tmp_path_factory: pytest.TempPathFactory) -> Reruns:
    root = tmp_path_factory.mktemp("reruns")
    raw = root / "raw"
    generate(GeneratorConfig(customers=300, seed=13, out=raw, faults=True))
    resent, still_open = _resend_cases_resolved(raw)
    as_of = latest_order_date(raw, "parquet")
    held = root / "held"
    held.mkdir()
    late_inside = _hold_back_events(raw, as_of - timedelta(days=1), held / "inside.parquet")
    late_before = _hold_back_events(raw, as_of - timedelta(days=10), held / "before.parquet")

    # Every build runs in one workspace (one warehouse path, one target folder): dbt re-parses the
    # project whole when the warehouse path or the vars change, so the full refresh, which has
    # the vars of run 2, is made there too, on a copy moved in and out.
    daily = DbtWorkspace(raw, root / "warehouse.duckdb", root / "dbt")
    after_first_build = root / "after_first_build.duckdb"
    # Run 1 without data tests: runs 2 and 3 run every data test on this warehouse.
    _build(daily, as_of - timedelta(days=1), data_tests=False)
    shutil.copyfile(daily.duckdb_path, after_first_build)
    # Both files arrive after the first build, named to sort after the generator's files.
    events = raw / "web" / "events"
    shutil.copyfile(held / "inside.parquet", events / "part-00003-late-inside.parquet")
    shutil.copyfile(held / "before.parquet", events / "part-00004-late-before.parquet")
    _build(daily, as_of)
    after_first_daily_run = root / "after_first_daily_run.duckdb"
    shutil.copyfile(daily.duckdb_path, after_first_daily_run)
    corrected = _correct_in_place(raw, as_of - timedelta(days=20))

    # The full refresh of the copy taken after run 1, on the final files. Without data tests:
    # it is compared row for row with the daily warehouse, whose run 3 passes all of them.
    full = root / "full.duckdb"
    wal = daily.duckdb_path.with_name(daily.duckdb_path.name + ".wal")
    assert not wal.exists(), "dbt should close the warehouse checkpointed: a copy would lose the WAL"
    shutil.copyfile(after_first_build, daily.duckdb_path)
    _build(daily, as_of, full_refresh=True, data_tests=False)
    shutil.move(daily.duckdb_path, full)
    shutil.copyfile(after_first_daily_run, daily.duckdb_path)
    _build(daily, as_of, backfill_from=(as_of - timedelta(days=20)).isoformat())
    return Reruns(
        daily=daily.duckdb_path,
        after_first_daily_run=after_first_daily_run,
        full=full,
        late_inside=late_inside,
        late_before=late_before,
        late_days=(as_of - timedelta(days=1), as_of - timedelta(days=10)),
        corrected=corrected,
        resent=resent,
        still_open=still_open,
    )


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> set[tuple[str, str]]:
    return {
        (schema, table)
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?", [database]
        ).fetchall()
        if schema in COMPARED_SCHEMAS and (schema, table) not in RUN_STATE_TABLES
    }


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where database_name = ? "
            "and schema_name = ? and table_name = ? order by column_index",
            [database, schema, table],
        ).fetchall()
        if name not in WALL_CLOCK_COLUMNS
    ]


def test_daily_runs_give_what_a_full_build_gives(reruns: Reruns) -> None:
    con = duckdb.connect()
    con.execute(f"attach '{reruns.daily}' as daily (read_only)")
    con.execute(f"attach '{reruns.full}' as full_build (read_only)")
    tables = _tables(con, "daily")
    assert tables == _tables(con, "full_build")
    assert len(tables) >= 80, sorted(tables)
    as_of = con.execute("select max(as_of_date) from full_build.audit.audit__as_of").fetchone()[0]
    differing = {}
    for schema, table in sorted(tables):
        columns = _columns(con, "daily", schema, table)
        selected = ", ".join(f'"{name}"' for name in columns)
        where = (
            f"where {AS_OF_ROWS[(schema, table)]} = date '{as_of}'" if (schema, table) in AS_OF_ROWS else ""
        )
        # A multiset comparison: order-independent, exact (floats bit for bit).
        only = [
            con.execute(
                f'select count(*) from (select {selected} from {a}."{schema}"."{table}" {where} '
                f'except all select {selected} from {b}."{schema}"."{table}" {where})'
            ).fetchone()[0]
            for a, b in (("daily", "full_build"), ("full_build", "daily"))
        ]
        if any(only):
            differing[f"{schema}.{table}"] = only
    assert not differing, f"rows only in the daily / full build: {differing}"


def test_late_files_are_picked_up_by_the_next_daily_run(reruns: Reruns) -> None:
    con = duckdb.connect(str(reruns.after_first_daily_run), read_only=True)
    late = reruns.late_inside + reruns.late_before
    staged = {
        event_id
        for (event_id,) in con.execute(
            "select event_id from staging.stg_web__events where list_contains(?, event_id)", [late]
        ).fetchall()
    }
    refused = {
        event_id
        for (event_id,) in con.execute(
            "select event_id from staging.base_web__events_quarantined where list_contains(?, event_id)",
            [late],
        ).fetchall()
    }
    # Every late event is staged, or refused for a fault the generator planted in it (which,
    # exactly, the comparison with the full build checks); most are staged.
    for held_back in (reruns.late_inside, reruns.late_before):
        assert set(held_back) <= staged | refused
        assert len(staged & set(held_back)) >= 0.9 * len(held_back)
    # The run listed the window's keys once, back to the first (UTC) day of the late file dated
    # before the lookback, which the counts found; the window's view read that list rather than
    # the raw files again.
    window_starts = con.execute(
        "select distinct window_start from staging.base_web__events_window_keys"
    ).fetchall()
    (first_late_day,) = con.execute(
        "select cast(min(event_date) as varchar) from staging.stg_web__events where list_contains(?, event_id)",
        [late],
    ).fetchone()
    assert first_late_day <= min(reruns.late_days).isoformat()
    assert window_starts == [(first_late_day,)]
    listed = {
        event_id
        for (event_id,) in con.execute(
            "select raw_event_id from staging.base_web__events_window_keys where list_contains(?, raw_event_id)",
            [late],
        ).fetchall()
    }
    assert listed == set(late)
    view_sql = con.execute(
        "select sql from duckdb_views() where schema_name = 'staging' and view_name = 'base_web__events_in_window'"
    ).fetchone()[0]
    assert "base_web__events_window_keys" in view_sql
    # Raw rows = staged + quarantined after the daily run, per raw table.
    assert con.execute(
        "select count(*) from audit.audit__row_reconciliation where not is_balanced"
    ).fetchone() == (0,)
    # Sessions were recomputed for the customers the late events belong to.
    (outside_sessions,) = con.execute(
        """
        select count(*) from intermediate.int_customer__web_events as events
        where list_contains(?, events.event_id)
            and not exists (
                select 1 from intermediate.int_customer__web_sessions as sessions
                where sessions.customer_key = events.customer_key
                    and events.occurred_at between sessions.started_at and sessions.ended_at
            )
        """,
        [late],
    ).fetchone()
    assert outside_sessions == 0


def test_a_correction_before_the_lookback_waits_for_a_backfill(reruns: Reruns) -> None:
    query = "select event_id, device_type from staging.stg_web__events where list_contains(?, event_id)"
    event_ids = list(reruns.corrected)
    before = dict(
        duckdb.connect(str(reruns.after_first_daily_run), read_only=True)
        .execute(query, [event_ids])
        .fetchall()
    )
    after = dict(duckdb.connect(str(reruns.daily), read_only=True).execute(query, [event_ids]).fetchall())
    assert len(after) >= 0.9 * len(event_ids)
    # The daily run recomputed a window, not all history: it still had the old values ...
    assert all(before.get(event_id) != reruns.corrected[event_id] for event_id in after)
    # ... and the backfill run read the corrected file.
    assert all(device_type == reruns.corrected[event_id] for event_id, device_type in after.items())


def test_no_temporary_relations_are_left_behind(reruns: Reruns) -> None:
    con = duckdb.connect(str(reruns.daily), read_only=True)
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
    con = duckdb.connect(str(reruns.daily), read_only=True)
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
    con = duckdb.connect(str(reruns.daily), read_only=True)
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
