"""A :class:`~keeneye.report.DriftReport` as a table: rich (colours) or plain text."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from keeneye.stats import FeatureDrift

if TYPE_CHECKING:
    from keeneye.report.drift_report import DriftReport

#: Widest a plain-text rendering gets; long reasons wrap inside their column.
PLAIN_WIDTH = 160


def number(value: float | None) -> str:
    """A compact human-readable number: 4 significant digits, scientific when tiny.

    >>> number(0.000012345), number(0.5), number(1234.5678), number(None), number(0.0)
    ('1.234e-05', '0.5', '1235', '-', '0')
    >>> number(24780.4), number(-130596.04), number(2.5e9)
    ('24780', '-130596', '2.5e+09')
    """
    if value is None or not math.isfinite(value):
        return "-"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.3e}"
    if 1e4 <= abs(value) < 1e7:  # whole numbers read better than 2.478e+04
        return f"{value:.0f}"
    return f"{value:.4g}"


def _corrected(result: FeatureDrift) -> bool | None:
    """The verdict after the multiple-testing correction (the one the exit code follows)."""
    if result.drifted is None:
        return None
    return result.drifted if result.drifted_adjusted is None else result.drifted_adjusted


def verdict(result: FeatureDrift) -> str:
    """'DRIFT', 'ok' or 'not tested' — after the multiple-testing correction."""
    corrected = _corrected(result)
    if corrected is None:
        return "not tested"
    return "DRIFT" if corrected else "ok"


def _rule(result: FeatureDrift) -> str:
    if result.drifted is None:
        return result.reason or "not tested"
    if result.decided_by == "p_value":
        text = f"p-value (drift if < {number(result.threshold)})"
    else:
        text = f"effect size (drift if {result.effect_method} ≥ {number(result.threshold)})"
    if result.drifted and not _corrected(result):
        text += f"; not after correction (adjusted p {number(result.p_value_adjusted)})"
    return text


def headline(report: DriftReport) -> str:
    """One sentence: the dataset verdict with its counts, after the correction (as the rows
    and the exit code); identifier-like columns left untested are named."""
    state = "DRIFT DETECTED" if report.dataset_drifted else "no drift"
    untested = len(report.features) - report.n_tested
    extra = f", {untested} not tested" if untested else ""
    ids = [
        f.feature
        for f in report.features
        if f.drifted is None and "identifier-like column" in (f.reason or "")
    ]
    if ids:
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        extra += f" (identifier-like: {shown})"
    drifted = sum(1 for f in report.features if _corrected(f))
    if report.options.dataset_drift_share is not None:  # the share rule counts raw verdicts
        counted = f"{report.n_drifted} of {report.n_tested} tested features drifted "
    else:
        counted = (
            f"{drifted} of {report.n_tested} tested features drifted after {report.correction} "
            "correction "
        )
    return (
        f"{state}: {counted}({report.drift_share:.0%} before correction){extra}; "
        f"alpha {number(report.alpha)}"
    )


#: Below this width the table drops the kind and statistic columns.
COMPACT_BELOW = 110


def _table(report: DriftReport, styled: bool, width: int) -> Table:
    compact = width < COMPACT_BELOW
    table = Table(box=box.SIMPLE_HEAD if styled else box.ASCII2, show_edge=not styled)
    table.add_column("feature", overflow="fold")
    if not compact:
        table.add_column("kind", no_wrap=True)
    table.add_column("drift", no_wrap=True)
    table.add_column("test", no_wrap=True)
    if not compact:
        table.add_column("statistic", justify="right", no_wrap=True)
    table.add_column("p-value", justify="right", no_wrap=True)
    table.add_column("effect size", justify="right", no_wrap=not compact)
    table.add_column("decided by / reason", overflow="fold", ratio=1)
    for result in report.features:
        kind = getattr(result.kind, "value", result.kind) or "-"
        state = verdict(result)
        style = {"DRIFT": "bold red", "ok": "green", "not tested": "yellow"}[state]
        effect = (
            f"{number(result.effect_size)} {result.effect_method}"
            if result.effect_size is not None
            else "-"
        )
        cells: list[str | Text] = [
            result.feature,
            str(kind),
            Text(state, style=style if styled else ""),
            result.method if result.drifted is not None else "-",
            number(result.statistic),
            number(result.p_value),
            effect,
            _rule(result),
        ]
        if compact:
            del cells[4], cells[1]
        table.add_row(*cells)
    return table


def _quality_lines(report: DriftReport, styled: bool) -> list[Text]:
    lines = []
    for result in report.features:
        for issue in report.issues(result.feature):
            line = Text("  ")
            line.append(result.feature, style="bold" if styled else "")
            line.append(f": {issue}")
            lines.append(line)
    if lines:
        lines.insert(0, Text("data quality:", style="bold" if styled else ""))
    return lines


def rich_renderable(report: DriftReport, *, styled: bool, width: int = PLAIN_WIDTH) -> Group:
    """Headline, sources, the per-feature table and data-quality findings, as one renderable."""
    style = ("bold red" if report.dataset_drifted else "bold green") if styled else ""
    sources = (
        f"reference: {report.reference.source} ({report.reference.rows} rows) · "
        f"current: {report.current.source} ({report.current.rows} rows)"
    )
    return Group(
        Text(headline(report), style=style),
        Text(sources, style="dim" if styled else ""),
        _table(report, styled, width),
        *_quality_lines(report, styled),
    )


def plain_text(report: DriftReport) -> str:
    """The report as plain text (no colours), as ``str(report)`` shows it."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=PLAIN_WIDTH, color_system=None, force_terminal=False, soft_wrap=False
    )
    console.print(rich_renderable(report, styled=False, width=PLAIN_WIDTH))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
