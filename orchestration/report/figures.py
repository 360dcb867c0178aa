"""Figures of the report: pure functions from data frames to plotly figures.

They take what the sections queried and know nothing of the warehouse, so each can be tried on
a hand-made frame. Labels (tiers, stages, channels, personas, treatments) come from the frames:
the report never names the sample generator's vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# One quiet template for every figure; plotly's default grey background prints badly.
TEMPLATE = "plotly_white"
HEIGHT = 420


@dataclass(frozen=True)
class Chart:
    """One figure of the report with what its caption states, or why it is not drawn.

    `missing` is set instead of `figure` when the data is not there (a source not provided, a
    model not built, too little data): the page shows that sentence, never an empty chart.
    """

    key: str
    title: str
    sources: tuple[str, ...]
    as_of: str | None
    figure: go.Figure | None = None
    missing: str | None = None
    note: str | None = None

    @property
    def caption(self) -> str:
        where = " · ".join(self.sources)
        return f"Source: {where} · as of {self.as_of or 'unknown'}"


def _layout(figure: go.Figure, height: int = HEIGHT, **layout: object) -> go.Figure:
    figure.update_layout(template=TEMPLATE, height=height, margin={"l": 60, "r": 20, "t": 30, "b": 50})
    figure.update_layout(**layout)
    return figure


def lorenz_curve(curve: pd.DataFrame, top_share: float, top_revenue_share: float) -> go.Figure:
    """Cumulative revenue share against the share of customers, highest revenue first.

    `curve` has customer_share and revenue_share (0..1, ascending); the point of the top
    `top_share` of customers is marked with its share of revenue.
    """
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[0.0, *curve["customer_share"]],
            y=[0.0, *curve["revenue_share"]],
            mode="lines",
            name="customers, highest revenue first",
            line={"width": 3},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name="equal revenue", line={"dash": "dot", "color": "grey"}
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[top_share],
            y=[top_revenue_share],
            mode="markers+text",
            marker={"size": 12, "color": "crimson"},
            text=[f"top {top_share:.0%}: {top_revenue_share:.0%} of revenue"],
            textposition="bottom right",
            name=f"top {top_share:.0%}",
        )
    )
    return _layout(
        figure,
        xaxis={"title": "share of customers", "tickformat": ".0%", "range": [0, 1]},
        yaxis={"title": "share of revenue", "tickformat": ".0%", "range": [0, 1.02]},
        legend={"x": 0.55, "y": 0.1},
    )


def bars(
    frame: pd.DataFrame,
    x: str,
    ys: Sequence[tuple[str, str]],
    x_title: str,
    y_title: str,
    orientation: str = "v",
    percent: bool = False,
) -> go.Figure:
    """Grouped bars of one or more columns (`ys`: column, legend name) per category of `x`."""
    figure = go.Figure()
    for column, name in ys:
        categories, values = frame[x].astype(str), frame[column]
        figure.add_trace(
            go.Bar(
                x=values if orientation == "h" else categories,
                y=categories if orientation == "h" else values,
                name=name,
                orientation=orientation,
            )
        )
    value_axis = {"title": y_title, "tickformat": ".0%" if percent else None}
    category_axis = {"title": x_title, "type": "category"}
    if orientation == "h":
        category_axis["autorange"] = "reversed"
    return _layout(
        figure,
        height=max(HEIGHT, 28 * len(frame) + 120) if orientation == "h" else HEIGHT,
        barmode="group",
        xaxis=value_axis if orientation == "h" else category_axis,
        yaxis=category_axis if orientation == "h" else value_axis,
        showlegend=len(ys) > 1,
    )


def stacked_bars(
    frame: pd.DataFrame, x: str, color: str, value: str, x_title: str, y_title: str
) -> go.Figure:
    """Bars per `x`, stacked by `color`, in the frame's order of both."""
    figure = go.Figure()
    for name, rows in frame.groupby(color, sort=False):
        figure.add_trace(go.Bar(x=rows[x].astype(str), y=rows[value], name=str(name)))
    return _layout(
        figure,
        barmode="stack",
        xaxis={"title": x_title, "type": "category"},
        yaxis={"title": y_title},
        legend={"title": {"text": color.replace("_", " ")}},
    )


def ranked_interval(ranked: pd.DataFrame, level: float | None) -> go.Figure:
    """Predicted CLV of customers ranked from highest to lowest, with the predictive interval band.

    `ranked` has customer_share (0..1), predicted_clv, predicted_clv_lower, predicted_clv_upper.
    """
    label = f"{level:.0%} interval" if level else "interval"
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=ranked["customer_share"],
            y=ranked["predicted_clv_upper"],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=ranked["customer_share"],
            y=ranked["predicted_clv_lower"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(31, 119, 180, 0.25)",
            name=label,
        )
    )
    figure.add_trace(
        go.Scatter(x=ranked["customer_share"], y=ranked["predicted_clv"], mode="lines", name="predicted CLV")
    )
    return _layout(
        figure,
        xaxis={"title": "customers ranked by predicted CLV (share)", "tickformat": ".0%"},
        yaxis={"title": "predicted CLV", "rangemode": "tozero"},
    )


def calibration(frame: pd.DataFrame, holdout_days: object) -> go.Figure:
    """Mean predicted against mean actual purchases in the hold-out period, per calibration frequency."""
    x = frame["calibration_frequency"].astype(str)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=x, y=frame["actual_purchases_mean"], mode="lines+markers", name="actual", line={"width": 3}
        )
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=frame["predicted_purchases_mean"],
            mode="lines+markers",
            name="predicted",
            line={"dash": "dash"},
        )
    )
    figure.add_trace(go.Bar(x=x, y=frame["customers"], name="customers", yaxis="y2", opacity=0.2))
    return _layout(
        figure,
        xaxis={"title": "purchases in the calibration period", "type": "category"},
        yaxis={"title": f"mean purchases in the {holdout_days} hold-out days"},
        yaxis2={"title": "customers", "overlaying": "y", "side": "right", "showgrid": False},
        legend={"x": 0.02, "y": 0.98},
    )


def heatmap(matrix: pd.DataFrame, colorbar_title: str) -> go.Figure:
    """A diverging heat map of rows (segments) by columns (features), centred on 0."""
    values = matrix.to_numpy(dtype=float)
    bound = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=[str(c) for c in matrix.columns],
            y=[str(i) for i in matrix.index],
            colorscale="RdBu",
            reversescale=True,
            zmin=-bound,
            zmax=bound,
            colorbar={"title": {"text": colorbar_title}},
        )
    )
    return _layout(
        figure,
        height=max(HEIGHT, 40 * len(matrix) + 200),
        margin={"l": 160, "r": 20, "t": 30, "b": 160},
        xaxis={"tickangle": -45},
    )


def sankey(links: pd.DataFrame) -> go.Figure:
    """Flows between (column, stage) nodes: `links` has source, target (labels) and customers."""
    labels = list(dict.fromkeys([*links["source"], *links["target"]]))
    index = {label: i for i, label in enumerate(labels)}
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "pad": 12, "thickness": 14},
            link={
                "source": [index[s] for s in links["source"]],
                "target": [index[t] for t in links["target"]],
                "value": links["customers"].tolist(),
            },
        )
    )
    return _layout(figure, height=520)


def lines(frame: pd.DataFrame, x: str, y: str, color: str, y_title: str, percent: bool = False) -> go.Figure:
    """One line per `color` value over `x`."""
    figure = go.Figure()
    for name, rows in frame.groupby(color, sort=False):
        figure.add_trace(go.Scatter(x=rows[x], y=rows[y], mode="lines+markers", name=str(name)))
    return _layout(
        figure,
        xaxis={"title": x.replace("_", " ")},
        yaxis={"title": y_title, "tickformat": ".0%" if percent else None},
        legend={"title": {"text": color.replace("_", " ")}},
    )


def forest(frame: pd.DataFrame, metric_title: str, percent: bool) -> go.Figure:
    """Point estimates with their intervals, one row per `label` (effect, lower, upper columns)."""
    figure = go.Figure(
        go.Scatter(
            x=frame["effect"],
            y=frame["label"],
            mode="markers",
            marker={"size": 9, "color": np.where(frame["significant"], "crimson", "steelblue").tolist()},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (frame["upper"] - frame["effect"]).tolist(),
                "arrayminus": (frame["effect"] - frame["lower"]).tolist(),
            },
            showlegend=False,
        )
    )
    figure.add_vline(x=0, line={"dash": "dot", "color": "grey"})
    return _layout(
        figure,
        height=max(HEIGHT, 24 * len(frame) + 120),
        margin={"l": 260, "r": 20, "t": 30, "b": 50},
        xaxis={"title": metric_title, "tickformat": ".1%" if percent else None, "zeroline": False},
        yaxis={"type": "category", "autorange": "reversed"},
    )


def qini(curves: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> go.Figure:
    """Qini curves (x: customers targeted, y: incremental conversions) with random targeting lines."""
    figure = go.Figure()
    for name, x, y in curves:
        share = x / x[-1] if len(x) and x[-1] else x
        line = figure.add_trace(go.Scatter(x=share, y=y, mode="lines", name=name))
        color = line.data[-1].line.color
        figure.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[0, y[-1] if len(y) else 0],
                mode="lines",
                line={"dash": "dot", "color": color},
                name=f"{name}: random",
                showlegend=False,
            )
        )
    return _layout(
        figure,
        xaxis={"title": "held-out assignments targeted, highest predicted uplift first", "tickformat": ".0%"},
        yaxis={"title": "incremental conversions (Qini)"},
    )


def difference_in_differences(
    periods: Sequence[str], groups: Sequence[tuple[str, float, float]]
) -> go.Figure:
    """Mean orders before and after joining, members against matched non-members."""
    figure = go.Figure()
    for name, before, after in groups:
        figure.add_trace(go.Scatter(x=list(periods), y=[before, after], mode="lines+markers", name=name))
    return _layout(figure, yaxis={"title": "orders per customer in the period"}, xaxis={"type": "category"})
