"""Open the report in headless Chromium and say what a reader's browser would show.

Used by the tests (tests/python/test_report_browser.py) and handy by hand: it loads the page
through the Debian `chromium` and `chromedriver` (`make browser` installs them) with selenium
(a dev dependency), collects JavaScript errors (the page's own record of window errors and the
console's SEVERE entries), counts the marks each plotly figure drew, and saves a screenshot of
every section.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

# Per figure: traces plotly built, and the SVG/canvas elements that carry its marks (bars, lines,
# points, heat-map images, Sankey links).
MARKS_SCRIPT = """
return Array.from(document.querySelectorAll('.plotly-graph-div')).map(function (gd) {
  var marks = gd.querySelectorAll(
    '.cartesianlayer .trace path, .cartesianlayer .hm image, .sankey path.sankey-link, .sankey .node-rect');
  var drawn = Array.from(marks).filter(function (el) {
    var box = el.getBBox ? el.getBBox() : {width: 1, height: 1};
    return box.width > 0 || box.height > 0;
  });
  return {id: gd.id, traces: (gd._fullData || []).length, marks: drawn.length,
          hasContainer: gd.querySelector('.plot-container') !== null};
});
"""


@dataclass
class BrowserReport:
    """What the browser saw: errors, marks per figure, chart states, the screenshots written."""

    errors: list[str]
    figures: list[dict[str, object]]
    chart_states: dict[str, str]
    screenshots: dict[str, Path] = field(default_factory=dict)


class BrowserMissing(RuntimeError):
    """chromium or chromedriver is not installed: `make browser` installs them."""


def chromium_paths() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        raise BrowserMissing(
            "Headless Chromium is needed for the report's browser test: run `make browser` "
            "(apt-get install chromium chromium-driver)."
        )
    return chromium, driver


def inspect_report(page: Path, screenshots: Path | None = None, width: int = 1400) -> BrowserReport:
    """Load the page from disk, wait for every figure, and collect what it drew."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chromium, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.get(page.resolve().as_uri())
        WebDriverWait(driver, 60).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
        # plotly draws asynchronously: wait until every figure has its plot container.
        WebDriverWait(driver, 60).until(
            lambda d: d.execute_script(
                "return Array.from(document.querySelectorAll('.plotly-graph-div'))"
                ".every(function (gd) { return gd.querySelector('.plot-container') !== null; })"
            )
        )
        figures = driver.execute_script(MARKS_SCRIPT)
        states = {
            element.get_attribute("data-chart"): element.get_attribute("data-state")
            for element in driver.find_elements(By.CSS_SELECTOR, "figure.chart")
        }
        errors = [str(e) for e in driver.execute_script("return window.reportErrors || []")]
        errors += [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        shots: dict[str, Path] = {}
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            for section in driver.find_elements(By.CSS_SELECTOR, "section.report-section"):
                key = section.get_attribute("id")
                # The section's full height, so the element screenshot is not cut at the window.
                height = driver.execute_script("return arguments[0].scrollHeight", section)
                driver.set_window_size(width, max(1000, int(height) + 200))
                driver.execute_script("arguments[0].scrollIntoView()", section)
                path = screenshots / f"{key}.png"
                section.screenshot(str(path))
                shots[key] = path
        return BrowserReport(errors, figures, states, shots)
    finally:
        driver.quit()
