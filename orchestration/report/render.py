"""Write the page: the sections into the Jinja2 template, each figure as a plotly div.

plotly.js is embedded once, in the first figure on the page (`include_plotlyjs=True`); the others
reuse it, so the page is one self-contained file that opens offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from markupsafe import Markup

from orchestration.report.sections import Section

TEMPLATES = Path(__file__).with_name("templates")
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def figure_html(sections: Sequence[Section]) -> dict[str, Markup]:
    """Chart key -> its plotly div, plotly.js inlined in the first one in page order."""
    rendered: dict[str, Markup] = {}
    for section in sections:
        for chart in section.charts:
            if chart.figure is None:
                continue
            html = chart.figure.to_html(
                full_html=False,
                include_plotlyjs=not rendered,
                div_id=f"fig-{chart.key}",
                config=PLOTLY_CONFIG,
                default_height=f"{chart.figure.layout.height or 420}px",
            )
            rendered[chart.key] = Markup(html)  # plotly's own output; nothing from the data is unescaped
    return rendered


def render(sections: Sequence[Section], warehouse: Path, as_of: str | None) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        sections=sections,
        figures=figure_html(sections),
        warehouse=str(warehouse),
        as_of=as_of or "unknown",
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
