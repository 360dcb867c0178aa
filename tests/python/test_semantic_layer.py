"""The semantic layer end to end: `mf query` (dbt-metricflow) on the shared full build returns the
figures direct SQL on the marts gives, metric by metric and group by group.

mf reads the semantic manifest at <project>/target/semantic_manifest.json (a fixed path: it does
not follow DBT_TARGET_PATH), while the full build parsed into a target folder of its own. So mf
runs in a folder that links the project's files and whose target/ is the build's. It runs after
the build, in the build's xdist group (conftest), so nothing else holds the DuckDB file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.dbt_cli import PROJECT_DIR, DbtWorkspace

pytestmark = pytest.mark.slow

PROJECT_FILES = ("dbt_project.yml", "models", "macros", "seeds", "tests", "analyses", "snapshots")


@pytest.fixture(scope="module")
def mf_project(full_build: DbtWorkspace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder for mf: the project's files, with the full build's target/ as its own."""
    root = tmp_path_factory.mktemp("mf_project")
    for name in PROJECT_FILES:
        if (PROJECT_DIR / name).exists():
            (root / name).symlink_to(PROJECT_DIR / name)
    (root / "target").symlink_to(full_build.work_dir / "target", target_is_directory=True)
    assert (root / "target" / "semantic_manifest.json").exists(), "the build wrote no semantic manifest"
    return root


def _mf(args: list[str], project: Path, workspace: DbtWorkspace) -> subprocess.CompletedProcess[str]:
    env = workspace.environment()
    env.update({"DBT_PROJECT_DIR": str(project), "DBT_PROFILES_DIR": str(PROJECT_DIR)})
    return subprocess.run(
        [str(Path(sys.executable).with_name("mf")), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def mf_query(project: Path, workspace: DbtWorkspace, metrics: list[str], group_by: list[str]) -> pd.DataFrame:
    """`mf query` written to CSV, read back with the group-by columns as the index."""
    output = project.parent / f"{project.name}-{'-'.join(metrics)}.csv"
    args = ["query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by), "--csv", str(output)]
    result = _mf([*args, "--quiet"], project, workspace)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    frame = pd.read_csv(output, keep_default_na=True)
    print(f"mf query --metrics {','.join(metrics)} --group-by {','.join(group_by)}\n{frame.to_string()}")
    return frame.set_index(group_by).sort_index()


def sql(workspace: DbtWorkspace, query: str, index: list[str]) -> pd.DataFrame:
    with duckdb.connect(str(workspace.duckdb_path), read_only=True) as connection:
        return connection.execute(query).df().set_index(index).sort_index()


def assert_same(queried: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same groups, same figures (nulls where SQL has nulls)."""
    expected.index = expected.index.set_names(queried.index.names)
    queried = queried[list(expected.columns)]
    assert [str(key) for key in queried.index] == [str(key) for key in expected.index]
    for column in expected.columns:
        got, want = queried[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float)
        assert pd.isna(got).tolist() == pd.isna(want).tolist(), column
        assert got[~pd.isna(want)] == pytest.approx(want[~pd.isna(want)], rel=1e-9, abs=1e-9), column


def test_semantic_definitions_validate(mf_project: Path, full_build: DbtWorkspace) -> None:
    result = _mf(["validate-configs", "--skip-dw"], mf_project, full_build)
    print(result.stdout[-2000:])
    assert result.returncode == 0 and "ERRORS: 0" in result.stdout, (
        result.stdout[-4000:] + result.stderr[-4000:]
    )


def test_revenue_and_customers_by_value_tier(mf_project: Path, full_build: DbtWorkspace) -> None:
    queried = mf_query(mf_project, full_build, ["revenue", "customers"], ["customer__value_tier"])
    expected = sql(
        full_build,
        "select value_tier, sum(revenue) as revenue, count(*) as customers "
        "from marts.customer_value group by value_tier",
        ["value_tier"],
    )
    assert len(expected) > 1
    assert_same(queried, expected)


def test_lifecycle_metrics_by_stage_and_tier(mf_project: Path, full_build: DbtWorkspace) -> None:
    """Metrics of two semantic models (customer_lifecycle, customer_value) joined on the customer,
    and the stage flags of seed lifecycle_stages joined on the stage."""
    metrics = ["active_customers", "churned_customers", "at_risk_customers", "repeat_rate"]
    queried = mf_query(mf_project, full_build, metrics, ["customer__lifecycle_stage", "customer__value_tier"])
    expected = sql(
        full_build,
        """
        select
            lifecycle.lifecycle_stage,
            value.value_tier,
            nullif(sum(case when stages.is_engaged then 1 else 0 end), 0) as active_customers,
            nullif(sum(case when stages.is_churned then 1 else 0 end), 0) as churned_customers,
            case when not bool_or(stages.is_engaged) and not bool_or(stages.is_churned)
                then sum(case when lifecycle.purchase_days_count > 0 then 1 else 0 end) end as at_risk_customers,
            sum(case when value.purchase_days > 1 then 1 else 0 end)
                / nullif(sum(case when value.purchase_days > 0 then 1 else 0 end), 0) as repeat_rate
        from marts.customer_lifecycle as lifecycle
        inner join marts.customer_value as value on lifecycle.customer_key = value.customer_key
        inner join reference.lifecycle_stages as stages on lifecycle.lifecycle_stage = stages.lifecycle_stage
        group by lifecycle.lifecycle_stage, value.value_tier
        """,
        ["lifecycle_stage", "value_tier"],
    )
    assert expected.active_customers.sum() > 0 and expected.churned_customers.sum() > 0
    assert_same(queried, expected)


def test_incremental_metrics_and_roi_by_treatment(mf_project: Path, full_build: DbtWorkspace) -> None:
    metrics = ["incremental_conversions", "incremental_revenue", "incremental_margin", "roi"]
    queried = mf_query(mf_project, full_build, metrics, ["treatment_effect__treatment_code"])
    expected = sql(
        full_build,
        "select treatment_code, sum(incremental_conversions) as incremental_conversions, "
        "sum(incremental_revenue) as incremental_revenue, sum(incremental_margin) as incremental_margin, "
        "(sum(case when roi is not null then incremental_margin end) "
        " - sum(case when roi is not null then treatment_cost end)) "
        " / sum(case when roi is not null then treatment_cost end) as roi "
        "from measurement.treatment_effects where dimension = 'overall' group by treatment_code",
        ["treatment_code"],
    )
    assert expected.roi.notna().any()
    assert_same(queried, expected)
    # With one campaign per own treatment, the metric is the mart's own ROI column.
    own = sql(
        full_build,
        "select treatment_code, roi from measurement.treatment_effects "
        "where dimension = 'overall' and roi is not null",
        ["treatment_code"],
    )
    assert queried.loc[own.index, "roi"].to_numpy() == pytest.approx(own.roi.to_numpy(), rel=1e-9)


def test_treatments_sent_and_nps_by_year(mf_project: Path, full_build: DbtWorkspace) -> None:
    """Two metrics over time (activation runs, monthly journey KPIs) on one metric_time axis."""
    queried = mf_query(mf_project, full_build, ["treatments_sent", "nps"], ["metric_time__year"])
    expected = sql(
        full_build,
        """
        with sent as (
            select year(run_date) as year, sum(case when is_holdout = false then 1 else 0 end) as treatments_sent
            from activation.treatment_assignment_history group by 1
        ),
        answers as (
            select year(month_start) as year,
                100.0 * (sum(nps_promoters) - sum(nps_detractors)) / nullif(sum(nps_responses), 0) as nps
            from marts.journey_kpis group by 1
        )
        select coalesce(sent.year, answers.year) as year, sent.treatments_sent, answers.nps
        from sent full outer join answers on sent.year = answers.year
        """,
        ["year"],
    )
    queried.index = pd.to_datetime(queried.index).year
    assert expected.treatments_sent.sum() > 0 and expected.nps.notna().any()
    assert_same(queried, expected)
