"""A :class:`~keeneye.report.DriftReport` as one self-contained HTML file.

The page inlines plotly.js once — its 1.2 MB "basic" bundle (bar charts are all it draws),
vendored in ``keeneye/report/vendor`` — so it opens without network; chart data are rounded to
what a chart can show. The notebook rendering (``_repr_html_``) is the summary and the table
only: no charts, no JavaScript per cell.
"""

from __future__ import annotations

import html
import itertools
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jinja2

from keeneye.report.charts import CategoryShares, Chart, Histogram
from keeneye.report.text import headline, number, verdict
from keeneye.stats import ColumnSummary, FeatureDrift

if TYPE_CHECKING:
    from keeneye.report.drift_report import DriftReport

_REFERENCE_COLOUR = "#57606a"
#: The current data in red only where the feature drifted; blue where it is healthy.
_DRIFTED_COLOUR = "#cf222e"
_CURRENT_COLOUR = "#0969da"
_CSS_CLASS = {"DRIFT": "drift", "ok": "ok", "not tested": "untested"}


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("keeneye.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("drift_report.html.j2")


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from importlib.resources import files

    return files("keeneye.report").joinpath("vendor/plotly-basic.min.js").read_text("utf-8")


def _round(values: Any, digits: int = 6) -> list[float]:
    """``digits`` significant digits: what a chart can show, a fraction of the bytes.

    >>> _round([0.123456789, 1234567.891, 0.0])
    [0.123457, 1234570.0, 0.0]
    """
    return [float(f"{v:.{digits}g}") for v in values]


def _anchor(index: int, feature: str) -> str:
    # Feature names can hold anything; ids must be simple and unique.
    return f"feature-{index}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", feature)[:40]


def _row(result: FeatureDrift, anchor: str | None) -> dict[str, Any]:
    state = verdict(result)
    tested = result.drifted is not None
    return {
        "feature": result.feature,
        "anchor": anchor,
        "kind": getattr(result.kind, "value", result.kind) or "-",
        "state": state,
        "css": _CSS_CLASS[state],
        "method": result.method if tested else "-",
        "statistic": number(result.statistic),
        "p_value": number(result.p_value),
        "p_adjusted": number(result.p_value_adjusted),
        "effect": (
            f"{number(result.effect_size)} ({result.effect_method})"
            if result.effect_size is not None
            else "-"
        ),
        "rule": _rule(result),
    }


def _rule(result: FeatureDrift) -> str:
    if result.drifted is None:
        return result.reason or "not tested"
    if result.decided_by == "p_value":
        return f"p-value: drift if p < {number(result.threshold)}"
    return f"effect size: drift if {result.effect_method} ≥ {number(result.threshold)}"


def _stats(reference: ColumnSummary | None, current: ColumnSummary | None) -> list[tuple[str, ...]]:
    sides = (reference, current)

    def line(label: str, get: Any) -> tuple[str, ...]:
        return (label, *(("-" if s is None else get(s)) for s in sides))

    rows = [
        line("rows", lambda s: str(s.count)),
        line("missing", lambda s: str(s.missing)),
        line("NaN", lambda s: str(s.nan)),
        line("+inf / −inf", lambda s: f"{s.pos_inf} / {s.neg_inf}"),
        line("wrong type", lambda s: str(s.wrong_type)),
        line("distinct", lambda s: str(s.distinct)),
    ]
    if any(s is not None and s.quantiles for s in sides):
        rows += [
            line("min", lambda s: number(s.min)),
            line("mean", lambda s: number(s.mean)),
            line("std", lambda s: number(s.std)),
            *(
                line(f"{q:.0%}", lambda s, q=q: number(s.quantiles.get(q)))
                for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
            ),
            line("max", lambda s: number(s.max)),
        ]
    else:
        for rank in range(5):
            rows.append(
                line(
                    f"top {rank + 1}",
                    lambda s, r=rank: (
                        f"{s.top[r][0]} ({s.top[r][1]:.1%})" if len(s.top) > r else "-"
                    ),
                )
            )
    return rows


def _text(value: str) -> str:
    # plotly renders a few HTML tags in its text (<b>, <a href> …): show names literally.
    return html.escape(value, quote=False)


def _figure(chart: Chart, chart_id: str, feature: str, drifted: bool) -> dict[str, Any]:
    current_colour = _DRIFTED_COLOUR if drifted else _CURRENT_COLOUR
    layout: dict[str, Any] = {
        "height": 300,
        # the legend sits under the title row, left; the (hover-only) mode bar is top right
        "margin": {"l": 50, "r": 10, "t": 50, "b": 40},
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        "yaxis": {"title": {"text": "share of rows"}, "tickformat": ".0%"},
        "xaxis": {"title": {"text": _text(feature)}},
    }
    if isinstance(chart, Histogram):
        edges = chart.edges
        centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        width = edges[1] - edges[0]
        data = []
        for name, counts, outside, colour in (
            ("reference", chart.reference, chart.outside_reference, _REFERENCE_COLOUR),
            ("current", chart.current, chart.outside_current, current_colour),
        ):
            total = sum(counts) + sum(outside)
            label = name + (f" ({sum(outside)} outside the range shown)" if sum(outside) else "")
            data.append(
                {
                    "type": "bar",
                    "name": label,
                    "x": _round(centres),
                    "y": _round(c / total if total else 0.0 for c in counts),
                    "width": float(f"{width:.6g}"),
                    "marker": {"color": colour},
                    "opacity": 0.55,
                }
            )
        layout["barmode"] = "overlay"
        layout["bargap"] = 0
    else:
        assert isinstance(chart, CategoryShares)
        data = [
            {
                "type": "bar",
                "name": name,
                "x": [_text(label) for label in chart.categories],
                "y": _round(shares),
                "marker": {"color": colour},
            }
            for name, shares, colour in (
                ("reference", chart.reference, _REFERENCE_COLOUR),
                ("current", chart.current, current_colour),
            )
        ]
        layout["barmode"] = "group"
        layout["xaxis"]["type"] = "category"
    return {"id": chart_id, "data": data, "layout": layout}


def render_html(report: DriftReport, *, full_page: bool) -> str:
    """The report as HTML: a whole self-contained page, or a fragment for notebooks."""
    from keeneye import __version__

    rows, details, charts = [], [], []
    for index, result in enumerate(report.features):
        profile = report.profiles.get(result.feature)
        anchor = _anchor(index, result.feature) if profile is not None else None
        row = _row(result, anchor)
        rows.append(row)
        if profile is None or anchor is None:
            continue
        chart_id = None
        if profile.chart is not None:
            chart_id = f"{anchor}-chart"
            drifted = verdict(result) == "DRIFT"
            charts.append(_figure(profile.chart, chart_id, result.feature, drifted))
        details.append(
            {
                **row,
                "chart_id": chart_id,
                "issues": profile.issues,
                "stats": _stats(profile.reference, profile.current),
            }
        )
    quality = [(f.feature, issue) for f in report.features for issue in report.issues(f.feature)]
    return _template().render(
        report=report,
        headline=headline(report),
        rows=rows,
        details=details,
        charts=charts,
        quality=quality,
        full_page=full_page,
        plotly_js=_plotly_js() if full_page else "",
        version=__version__,
        fmt=number,
    )
