"""The HTML report in a real browser: headless Chromium (Debian's, `make browser`) through selenium.

The report of the session's full build (conftest.full_build: every source provided) is written
to a temporary folder and opened from disk: the page must raise no JavaScript error, every
figure must draw marks, every section is screenshotted into test-output/report/full/ (gitignored)
for people to look at, and what the figures say must match the marts they cite. Two small pages
first prove that the browser checks catch a JavaScript error and a figure without marks. The
orders-only shape's report (no web, crm or marketing data) is tested in test_shapes_e2e.py, on
that module's build.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_cli import PROJECT_DIR
from orchestration.report.browser import BrowserReport, chromium_paths, inspect_report
from orchestration.report.build import build_report

SCREENSHOTS = PROJECT_DIR / "test-output" / "report"
SECTIONS = ("overview", "value", "needs", "journey", "activation", "measurement", "data-quality")


def assert_page_drew(seen: BrowserReport) -> None:
    """No JavaScript error; every figure the page says it drew has traces and visible marks."""
    print(f"errors: {seen.errors}\nfigures: {seen.figures}\nstates: {seen.chart_states}")
    assert seen.errors == []
    drawn = {key for key, state in seen.chart_states.items() if state == "drawn"}
    assert {f["id"] for f in seen.figures} == {f"fig-{key}" for key in drawn}
    for figure in seen.figures:
        assert figure["hasContainer"], figure
        assert figure["traces"] > 0 and figure["marks"] > 0, figure
    assert set(seen.screenshots) == set(SECTIONS)
    for path in seen.screenshots.values():
        assert path.stat().st_size > 10_000, path  # a rendered section, not a blank image


@pytest.fixture(scope="module")
def browser() -> None:
    chromium_paths()  # fails with "run `make browser`" when Chromium is missing


def _page(tmp_path: Path, body: str) -> Path:
    """A page with the report's error recorder and the given body (plotly.js from the package)."""
    import plotly.offline

    path = tmp_path / "page.html"
    recorder = (
        "<script>window.reportErrors = []; window.addEventListener('error', "
        "function (e) { window.reportErrors.push(String(e.message)); });</script>"
    )
    plotly_js = f"<script>{plotly.offline.get_plotlyjs()}</script>"
    path.write_text(f"<html><head>{recorder}{plotly_js}</head><body>{body}</body></html>")
    return path


def test_browser_check_catches_a_javascript_error(browser, tmp_path: Path) -> None:
    page = _page(tmp_path, "<script>undefinedFunctionOfTheReport();</script>")
    seen = inspect_report(page)
    print(seen.errors)
    assert any("undefinedFunctionOfTheReport" in error for error in seen.errors)


def test_browser_check_catches_a_figure_without_marks(browser, tmp_path: Path) -> None:
    body = (
        '<figure class="chart" data-chart="empty" data-state="drawn"><div id="fig-empty" '
        'class="plotly-graph-div" style="height:300px"></div></figure>'
        "<script>Plotly.newPlot('fig-empty', [], {});</script>"
    )
    seen = inspect_report(_page(tmp_path, body))
    print(seen.figures)
    assert seen.errors == []
    assert seen.figures == [{"id": "fig-empty", "traces": 0, "marks": 0, "hasContainer": True}]


@pytest.mark.slow
def test_full_report_draws_every_section_in_chromium(browser, full_build, tmp_path: Path) -> None:
    page = build_report(full_build.duckdb_path, tmp_path / "report" / "index.html")
    html = page.read_text()
    seen = inspect_report(page, SCREENSHOTS / "full")
    assert_page_drew(seen)

    connection = duckdb.connect(str(full_build.duckdb_path), read_only=True)
    try:
        as_of = str(connection.execute("select as_of_date from audit.audit__as_of").fetchone()[0])
        top_20 = connection.execute(
            "select revenue_share from marts.value_pareto_curve where top_customer_share = 0.2"
        ).fetchone()[0]
        personas = [
            r[0]
            for r in connection.execute("select persona_name from marts.needs_segment_profiles").fetchall()
        ]
        treatments = [
            r[0]
            for r in connection.execute(
                "select distinct treatment_code from activation.customer_treatments"
            ).fetchall()
        ]
        calibration_built = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'clv_calibration'"
        ).fetchone()[0]
    finally:
        connection.close()

    # Every source is provided in the full shape: every figure is drawn, the calibration once built.
    missing = {key for key, state in seen.chart_states.items() if state == "missing"}
    assert missing == (set() if calibration_built else {"value-calibration"})
    assert "Not provided" not in html
    # Each figure states its source model and the as-of date.
    captions = re.findall(r"Source: [^<]*", html)
    assert len(captions) >= len(seen.chart_states)
    assert all(caption.endswith(f"as of {as_of}") for caption in captions), captions
    # What the figures say is what the marts hold; labels come from the data.
    assert f"The top 20% of customers bring {top_20:.0%} of identified revenue." in html
    assert all(persona in html for persona in personas)
    assert all(treatment in html for treatment in treatments)
    # The Qini curves are redrawn only where they reproduce the stored coefficients.
    assert "Not redrawn" not in html
