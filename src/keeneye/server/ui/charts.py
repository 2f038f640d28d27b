"""Plotly figure specs (plain dicts: ``{"data": [...], "layout": {...}}``) for the pages.

The browser draws them with plotly's own JavaScript served by the UI; Python only builds
JSON, so rendering a page needs no plotly import.

>>> fig = sparkline([datetime(2026, 1, 1, h) for h in range(3)], [1, 2, 3])
>>> fig["data"][0]["y"], fig["config"]["staticPlot"]
([1, 2, 3], True)
"""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

Figure = dict[str, Any]

CURRENT = "#2563eb"
REFERENCE = "#9ca3af"
DRIFT = "#dc2626"
OVERLAY_DAY = "#f59e0b"
OVERLAY_WEEK = "#10b981"
#: p-values are drawn down to this (a p-value of 0 has no place on a log axis).
P_FLOOR = 1e-16
#: Effect size: white (none) through amber to red (large).
HEAT = [[0.0, "#ffffff"], [0.1, "#fff7d6"], [0.3, "#fdba74"], [0.6, "#ef4444"], [1.0, "#7f1d1d"]]


def text(value: object) -> str:
    """A name shown literally: plotly renders a few HTML tags inside its labels."""
    return html.escape(str(value), quote=False)


def _layout(title: str | None = None, height: int = 320, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 40 if title else 16, "b": 50},
        "legend": {"orientation": "h", "y": -0.2},
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {"gridcolor": "#eee"},
        "yaxis": {"gridcolor": "#eee", "rangemode": "tozero"},
    }
    if title:
        layout["title"] = {"text": text(title), "x": 0, "font": {"size": 14}}
    layout.update(extra)
    return layout


def layout(title: str | None = None, height: int = 320, **extra: Any) -> dict[str, Any]:
    """The pages' common layout (for figures built outside this module)."""
    return _layout(title, height, **extra)


def _iso(values: Sequence[datetime]) -> list[str]:
    return [v.isoformat() for v in values]


def clean(value: Any) -> Any:
    """JSON-safe: NaN and ±inf become ``null`` (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_json(figure: Figure) -> str:
    """The spec as JSON that is safe inside a ``<script type="application/json">`` block."""
    raw = json.dumps(clean(figure), allow_nan=False, separators=(",", ":"))
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def sparkline(x: Sequence[datetime], y: Sequence[int]) -> Figure:
    """A tiny traffic line for the fleet table."""
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": _iso(x),
                "y": list(y),
                "line": {"color": CURRENT, "width": 1.5},
                "fill": "tozeroy",
                "hoverinfo": "skip",
            }
        ],
        "layout": {
            "height": 40,
            "width": 180,
            "margin": {"l": 0, "r": 0, "t": 2, "b": 2},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False, "rangemode": "tozero"},
            "showlegend": False,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
        "config": {"staticPlot": True},
    }


def traffic(
    x: Sequence[datetime],
    now: Sequence[int],
    day_ago: Sequence[int],
    week_ago: Sequence[int],
    changes: Sequence[tuple[datetime, str]],
) -> Figure:
    """Events per bucket with the same buckets a day and a week earlier; version changes as
    vertical lines."""
    xs = _iso(x)
    data = [
        {"type": "scatter", "mode": "lines", "name": "events", "x": xs, "y": list(now),
         "line": {"color": CURRENT, "width": 2}},
        {"type": "scatter", "mode": "lines", "name": "a day earlier", "x": xs,
         "y": list(day_ago), "line": {"color": OVERLAY_DAY, "width": 1, "dash": "dot"}},
        {"type": "scatter", "mode": "lines", "name": "a week earlier", "x": xs,
         "y": list(week_ago), "line": {"color": OVERLAY_WEEK, "width": 1, "dash": "dash"}},
    ]  # fmt: skip
    shapes, notes = [], []
    for at, version in changes:
        shapes.append(
            {"type": "line", "xref": "x", "yref": "paper", "x0": at.isoformat(),
             "x1": at.isoformat(), "y0": 0, "y1": 1, "line": {"color": "#6b7280", "dash": "dot"}}
        )  # fmt: skip
        notes.append(
            {"x": at.isoformat(), "y": 1, "xref": "x", "yref": "paper", "showarrow": False,
             "text": f"v{text(version)} live", "yanchor": "bottom", "font": {"size": 10}}
        )  # fmt: skip
    return {
        "data": data,
        "layout": _layout("Traffic (predictions per bucket)", shapes=shapes, annotations=notes),
    }


def lines(
    title: str,
    x: Sequence[datetime],
    series: Mapping[str, Sequence[float | None]],
    *,
    y2: Mapping[str, Sequence[float | None]] | None = None,
    y_title: str = "",
    y2_title: str = "",
    markers: bool = True,
) -> Figure:
    """Several series over the same windows; ``y2`` series are bars on a right-hand axis."""
    xs = _iso(x)
    mode = "lines+markers" if markers else "lines"
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": mode, "name": text(name), "x": xs, "y": list(values)}
        for name, values in series.items()
    ]
    layout = _layout(title, yaxis={"gridcolor": "#eee", "title": {"text": y_title}})
    if y2:
        for name, values in y2.items():
            data.append(
                {"type": "bar", "name": text(name), "x": xs, "y": list(values), "yaxis": "y2",
                 "opacity": 0.25, "marker": {"color": REFERENCE}}
            )  # fmt: skip
        layout["margin"] = {"l": 60, "r": 70, "t": 40, "b": 50}
        layout["yaxis2"] = {
            "overlaying": "y", "side": "right", "range": [0, 1.05], "showgrid": False,
            "tickformat": ".0%", "dtick": 0.25,
            "title": {"text": y2_title},
        }  # fmt: skip
    return {"data": data, "layout": layout}


def histogram(
    title: str,
    edges: Sequence[float],
    reference: Sequence[float],
    current: Sequence[float],
    *,
    reference_name: str = "baseline",
    current_name: str = "selected range",
) -> Figure:
    """Shares per shared bin of both sides, overlaid."""
    centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    width = [b - a for a, b in itertools.pairwise(edges)]
    return {
        "data": [
            {"type": "bar", "name": text(reference_name), "x": centers, "y": list(reference),
             "width": width, "marker": {"color": REFERENCE}, "opacity": 0.6},
            {"type": "bar", "name": text(current_name), "x": centers, "y": list(current),
             "width": width, "marker": {"color": CURRENT}, "opacity": 0.6},
        ],
        "layout": _layout(title, barmode="overlay", yaxis={"title": {"text": "share"}}),
    }  # fmt: skip


def category_bars(
    title: str,
    categories: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    *,
    reference_name: str = "baseline",
    current_name: str = "selected range",
) -> Figure:
    """Shares per category of both sides, side by side."""
    names = [text(c) for c in categories]
    return {
        "data": [
            {"type": "bar", "name": text(reference_name), "x": names, "y": list(reference),
             "marker": {"color": REFERENCE}},
            {"type": "bar", "name": text(current_name), "x": names, "y": list(current),
             "marker": {"color": CURRENT}},
        ],
        "layout": _layout(title, barmode="group", yaxis={"title": {"text": "share"}}),
    }  # fmt: skip


def drift_heatmap(
    columns: Sequence[str],
    features: Sequence[str],
    effect: Sequence[Sequence[float | None]],
    drifted: Sequence[Sequence[bool]],
    hover: Sequence[Sequence[str]],
    highlighted: Sequence[str],
) -> Figure:
    """Features × windows, colour = effect size, ✕ = drifted; drifted features' names in red."""
    found = [v for row in effect for v in row if v is not None]
    # Saturate at 1 (a large shift) so that small effects stay visible; never below 0.3 so
    # that a calm range looks calm instead of stretching noise over the whole scale.
    zmax = min(max([0.3, *found]), 1.0)
    marks_x, marks_y = [], []
    for i, feature in enumerate(features):
        for j, column in enumerate(columns):
            if drifted[i][j]:
                marks_x.append(column)
                marks_y.append(text(feature))
    ticks = [
        f"<b style='color:{DRIFT}'>⚠ {text(f)}</b>" if f in highlighted else text(f)
        for f in features
    ]
    return {
        "data": [
            {"type": "heatmap", "x": list(columns), "y": [text(f) for f in features],
             "z": [list(row) for row in effect], "text": [list(r) for r in hover],
             "hovertemplate": "%{text}<extra></extra>", "colorscale": HEAT, "zmin": 0,
             "zmax": zmax,
             "colorbar": {"title": {"text": "effect size"}}, "xgap": 1, "ygap": 1},
            {"type": "scatter", "mode": "markers", "name": "drifted", "x": marks_x,
             "y": marks_y, "hoverinfo": "skip",
             "marker": {"symbol": "x-thin", "size": 10, "line": {"width": 2, "color": "black"}}},
        ],
        "layout": _layout(
            "Drift: effect size per window (✕ = drifted)",
            height=max(260, 60 + 26 * len(features)),
            margin={"l": 190, "r": 20, "t": 40, "b": 80},
            showlegend=False,
            xaxis={"type": "category", "tickangle": -45},
            yaxis={"type": "category", "autorange": "reversed", "tickvals":
                   [text(f) for f in features], "ticktext": ticks},
        ),
    }  # fmt: skip


def drift_tests(
    x: Sequence[datetime],
    effect: Sequence[float | None],
    threshold: Sequence[float | None],
    p_values: Sequence[float | None],
    drifted: Sequence[bool],
    effect_name: str,
) -> Figure:
    """One feature's drift test per window: effect size against its threshold, p-value on a
    log axis, drifted windows marked."""
    xs = _iso(x)
    return {
        "data": [
            {"type": "scatter", "mode": "lines+markers", "name": f"effect size ({effect_name})",
             "x": xs, "y": list(effect), "marker": {"size": [12 if d else 6 for d in drifted],
             "color": [DRIFT if d else CURRENT for d in drifted]}, "line": {"color": CURRENT}},
            {"type": "scatter", "mode": "lines", "name": "threshold", "x": xs,
             "y": list(threshold), "line": {"color": DRIFT, "dash": "dash", "width": 1}},
            {"type": "scatter", "mode": "lines+markers", "name": "p-value", "x": xs,
             "y": [None if p is None else max(p, P_FLOOR) for p in p_values], "yaxis": "y2",
             "line": {"color": REFERENCE, "width": 1}},
        ],
        "layout": _layout(
            "Drift test per window",
            yaxis={"title": {"text": "effect size"}, "rangemode": "tozero", "gridcolor": "#eee"},
            yaxis2={"overlaying": "y", "side": "right", "type": "log", "showgrid": False,
                    "title": {"text": "p-value"}, "exponentformat": "e", "dtick": 4},
            margin={"l": 60, "r": 70, "t": 40, "b": 50},
        ),
    }  # fmt: skip


def empty(title: str, message: str) -> Figure:
    """A chart frame that says why there is nothing to draw."""
    return {
        "data": [],
        "layout": _layout(
            title,
            height=200,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {"text": text(message), "showarrow": False, "xref": "paper", "yref": "paper",
                 "x": 0.5, "y": 0.5, "font": {"size": 13, "color": "#6b7280"}}
            ],
        ),
    }  # fmt: skip
