"""The model page's estimated-performance and multivariate-drift parts: charts over the
range's windows and the tables under them (one version at a time; the live one by default)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keeneye.profile.report import (
    EstimatedSection,
    MultivariateSection,
    OnlineSection,
    SegmentsSection,
)
from keeneye.profile.stored import report_of
from keeneye.server.ui import charts
from keeneye.store.records import StoredResult

#: Metrics drawn in the estimate chart, by task.
SHOWN = {"classification": ("accuracy", "roc_auc"), "regression": ("mae", "rmse")}
_BAND = "rgba(37, 99, 235, 0.15)"


@dataclass(frozen=True)
class EstimateRow:
    window_start: datetime
    version: str
    section: EstimatedSection


@dataclass(frozen=True)
class MultivariateRow:
    window_start: datetime
    version: str
    section: MultivariateSection


def estimate_rows(results: Sequence[StoredResult]) -> list[EstimateRow]:
    """The ``estimated`` results of the range, newest first."""
    rows = [
        EstimateRow(r.window_start, r.version, s)
        for r in results
        if (s := report_of(r).estimated) is not None and s.method is not None
    ]
    return sorted(rows, key=lambda r: (r.window_start, r.version), reverse=True)


def multivariate_rows(results: Sequence[StoredResult]) -> list[MultivariateRow]:
    """The ``multivariate`` results of the range, newest first."""
    rows = [
        MultivariateRow(r.window_start, r.version, s)
        for r in results
        if (s := report_of(r).multivariate) is not None
    ]
    return sorted(rows, key=lambda r: (r.window_start, r.version), reverse=True)


@dataclass(frozen=True)
class SegmentRow:
    window_start: datetime
    version: str
    section: SegmentsSection


@dataclass(frozen=True)
class Driver:
    """A segment that drove a drift or a performance drop in the range."""

    column: str
    value: str
    drift_windows: int
    drop_windows: int
    features: tuple[str, ...]


def segment_rows(results: Sequence[StoredResult]) -> list[SegmentRow]:
    """The ``segments`` results of the range, newest first."""
    rows = [
        SegmentRow(r.window_start, r.version, s)
        for r in results
        if (s := report_of(r).segments) is not None
    ]
    return sorted(rows, key=lambda r: (r.window_start, r.version), reverse=True)


def drivers(rows: Sequence[SegmentRow]) -> list[Driver]:
    """Segments that drifted or lost performance in any window of the range, most first."""
    found: dict[tuple[str, str], tuple[int, int, set[str]]] = {}
    for row in rows:
        for column, s in row.section.drivers():
            drift, drop, features = found.get((column, s.value), (0, 0, set()))
            found[(column, s.value)] = (
                drift + bool(s.drifted),
                drop + s.performance_drop,
                features | set(s.drifted),
            )
    out = [
        Driver(c, v, drift, drop, tuple(sorted(features)))
        for (c, v), (drift, drop, features) in found.items()
    ]
    return sorted(out, key=lambda d: (-(d.drift_windows + d.drop_windows), d.column, d.value))


@dataclass(frozen=True)
class OnlineRow:
    window_start: datetime
    version: str
    section: OnlineSection


def online_rows(results: Sequence[StoredResult]) -> list[OnlineRow]:
    """The ``online`` results of the range, newest first."""
    rows = [
        OnlineRow(r.window_start, r.version, s)
        for r in results
        if (s := report_of(r).online) is not None
    ]
    return sorted(rows, key=lambda r: (r.window_start, r.version), reverse=True)


def _one_version(rows: Sequence[Any], live: str | None) -> list[Any]:
    versions = {r.version for r in rows}
    chosen = live if live in versions else (max(versions) if versions else None)
    return sorted((r for r in rows if r.version == chosen), key=lambda r: r.window_start)


def estimate_chart(rows: Sequence[EstimateRow], live: str | None) -> charts.Figure:
    """Each metric's estimate with its band, and the realized value where labels landed."""
    title = "Estimated performance (without labels), with realized values as labels arrive"
    mine = _one_version(rows, live)
    if not mine:
        return charts.empty(title, "performance estimation is not configured for this model")
    task = mine[-1].section.task or "classification"
    x = [r.window_start.isoformat() for r in mine]
    data: list[dict[str, Any]] = []
    for metric in SHOWN.get(task, ()):
        ms = [r.section.metrics.get(metric) for r in mine]
        upper = [m.upper if m else None for m in ms]
        lower = [m.lower if m else None for m in ms]
        data += [
            {"type": "scatter", "mode": "lines", "x": x, "y": upper, "line": {"width": 0},
             "showlegend": False, "hoverinfo": "skip"},
            {"type": "scatter", "mode": "lines", "x": x, "y": lower, "line": {"width": 0},
             "fill": "tonexty", "fillcolor": _BAND, "name": f"{metric} band",
             "hoverinfo": "skip"},
            {"type": "scatter", "mode": "lines+markers", "x": x,
             "y": [m.value if m else None for m in ms], "name": f"estimated {metric}"},
            {"type": "scatter", "mode": "markers", "x": x,
             "y": [m.realized if m else None for m in ms], "name": f"realized {metric}",
             "marker": {"symbol": "x", "size": 9}},
            {"type": "scatter", "mode": "lines", "x": x,
             "y": [(m.baseline_low if m.baseline_low is not None else m.baseline_high)
                   if m else None for m in ms],
             "name": f"{metric} alert limit", "line": {"dash": "dot", "color": charts.DRIFT}},
        ]  # fmt: skip
    layout = charts.layout(title)
    return {"data": data, "layout": layout}


def multivariate_chart(rows: Sequence[MultivariateRow], live: str | None) -> charts.Figure:
    """Each multivariate statistic per window against where it alerts."""
    title = "Multivariate drift per window"
    mine = _one_version(rows, live)
    if not mine:
        return charts.empty(title, "multivariate drift is not configured for this model")
    x = [r.window_start.isoformat() for r in mine]
    data: list[dict[str, Any]] = []
    methods = sorted({t.method for r in mine for t in r.section.tests})
    for i, method in enumerate(methods):
        tests = [next((t for t in r.section.tests if t.method == method), None) for r in mine]
        axis = "y" if i == 0 else "y2"
        limit = [
            (t.upper if method == "pca_reconstruction" else t.expected) if t else None
            for t in tests
        ]
        data += [
            {"type": "scatter", "mode": "lines+markers", "x": x, "yaxis": axis,
             "y": [t.statistic if t else None for t in tests], "name": method,
             "marker": {"color": [charts.DRIFT if t and t.drifted else charts.CURRENT
                                  for t in tests]}},
            {"type": "scatter", "mode": "lines", "x": x, "y": limit, "yaxis": axis,
             "name": f"{method} threshold", "line": {"dash": "dot"}},
        ]  # fmt: skip
    layout = charts.layout(title)
    if len(methods) > 1:
        layout["yaxis"]["title"] = {"text": methods[0]}
        layout["yaxis2"] = {"overlaying": "y", "side": "right", "title": {"text": methods[1]},
                            "showgrid": False}  # fmt: skip
    return {"data": data, "layout": layout}


__all__ = [
    "Driver",
    "EstimateRow",
    "MultivariateRow",
    "SegmentRow",
    "drivers",
    "estimate_chart",
    "estimate_rows",
    "multivariate_chart",
    "multivariate_rows",
    "online_rows",
    "segment_rows",
]
