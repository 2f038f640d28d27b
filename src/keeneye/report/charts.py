"""What a report needs to draw one feature: shared-bin histograms or category shares.

Computed by :func:`keeneye.compare` while the columns are at hand (a report keeps no raw data).
Numeric histograms share their bins across both sides; the bins span the 1st–99th percentiles
of both sides (padded by 5 %) so that a few extreme values do not squash the plot into one bar;
values outside are counted, not dropped silently. Integer-valued columns get bins centred on
the integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from keeneye.stats import ColumnSummary
from keeneye.stats.results import json_safe

#: Bars in a numeric histogram.
HISTOGRAM_BINS = 40
#: Categories drawn (by combined frequency); the rest is one "other" bar.
MAX_CATEGORIES = 20
OTHER = "(other)"


@dataclass(frozen=True)
class Histogram:
    """Counts of both sides over the same bins (``len(edges) == len(counts) + 1``)."""

    edges: tuple[float, ...]
    reference: tuple[int, ...]
    current: tuple[int, ...]
    #: Finite values left of / right of the drawn range, per side.
    outside_reference: tuple[int, int]
    outside_current: tuple[int, int]

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "edges": self.edges,
                    "reference": self.reference,
                    "current": self.current,
                    "outside_reference": self.outside_reference,
                    "outside_current": self.outside_current,
                }
            )
        )


@dataclass(frozen=True)
class CategoryShares:
    """Share of each category (of the non-missing values) on both sides, most common first."""

    categories: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return dict(
            json_safe(
                {
                    "categories": self.categories,
                    "reference": self.reference,
                    "current": self.current,
                }
            )
        )


Chart = Histogram | CategoryShares


def _finite(values: np.ndarray) -> np.ndarray:
    floats = np.asarray(values, dtype=np.float64)
    return floats[np.isfinite(floats)]


def _integers(
    reference: ColumnSummary, current: ColumnSummary, finite_sides: list[np.ndarray]
) -> bool:
    # The extremes rule most float columns out without a pass over the data.
    checks = [s.min for s in (reference, current)] + [s.max for s in (reference, current)]
    if any(v is None or v != round(v) for v in checks):
        return False
    return all(np.array_equal(f, np.round(f)) for f in finite_sides)


def histogram(
    reference: np.ndarray,
    current: np.ndarray,
    reference_summary: ColumnSummary,
    current_summary: ColumnSummary,
    bins: int = HISTOGRAM_BINS,
    *,
    is_sorted: bool = False,
) -> Histogram | None:
    """Shared-bin histograms of two float64 columns (``None`` when a side has no finite value).

    The summaries supply the percentiles that set the range, so nothing is sorted again.
    With ``is_sorted`` both sides are sorted finite values and are counted by binary search
    over the same bin edges ``np.histogram`` uses, with the same counts and no pass over them.

    >>> from keeneye.stats import summarize
    >>> a, b = np.arange(100.0) + 0.5, np.append(np.arange(50.0, 150.0) + 0.5, 1e6)
    >>> h = histogram(a, b, summarize(a, "numeric"), summarize(b, "numeric"), bins=4)
    >>> h.reference, h.current, h.outside_current
    ((35, 40, 25, 0), (0, 25, 41, 34), (0, 1))
    >>> counts = np.array([0, 1, 1, 2, 2, 2])
    >>> histogram(counts, counts, summarize(counts, "numeric"), summarize(counts, "numeric")).edges
    (-0.5, 0.5, 1.5, 2.5)
    """
    quantiles = (reference_summary.quantiles, current_summary.quantiles)
    if not all(quantiles):
        return None
    lo = min(q[0.01] for q in quantiles)
    hi = max(q[0.99] for q in quantiles)
    scale = max(abs(lo), abs(hi), 1.0)
    if hi - lo <= scale * 1e-9:  # (nearly) constant, at the values' precision: widen
        lo, hi = lo - max(0.5, scale * 1e-6), hi + max(0.5, scale * 1e-6)
    if is_sorted:
        finite_sides = [reference, current]
    else:
        finite_sides = [_finite(values) for values in (reference, current)]
    with np.errstate(over="ignore", invalid="ignore"):
        if scale < 2.0**50 and _integers(reference_summary, current_summary, finite_sides):
            # Integers: one bar per value (or per run of values) centred on the integers, so
            # that bars do not alias into alternately full and empty bins.
            step = max(1.0, float(np.ceil((hi - lo + 1) / bins)))
            edges = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 0.5 + step, step)
        else:
            pad = 0.05 * (hi - lo)
            edges = np.linspace(lo - pad, hi + pad, bins + 1)
        if not (np.isfinite(edges).all() and (np.diff(edges) > 0).all()):
            return None  # values near the limits of float64: nothing sensible to draw
    sides = []
    for finite in finite_sides:
        if is_sorted:
            counts, below = _sorted_histogram(finite, edges)
        else:
            # Equal-width bins given as (count, range) take numpy's fast path (no binary
            # search).
            counts, _ = np.histogram(finite, bins=edges.size - 1, range=(edges[0], edges[-1]))
            below = int(np.count_nonzero(finite < edges[0]))
        above = finite.size - int(counts.sum()) - below
        sides.append((tuple(int(c) for c in counts), (below, above)))
    return Histogram(
        edges=tuple(float(e) for e in edges),
        reference=sides[0][0],
        current=sides[1][0],
        outside_reference=sides[0][1],
        outside_current=sides[1][1],
    )


def _sorted_histogram(ordered: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    """``np.histogram`` counts of sorted values over equal-width bins, and the values below.

    numpy bins ``(count, range)`` histograms over its own ``linspace`` edges, each bin
    [left, right) and the last one closed; counting against those edges reproduces it.
    """
    numpy_edges = np.histogram_bin_edges(
        ordered[:1], bins=edges.size - 1, range=(edges[0], edges[-1])
    )
    before = np.searchsorted(ordered, numpy_edges, side="left")
    before[-1] = np.searchsorted(ordered, numpy_edges[-1], side="right")
    return np.diff(before), int(before[0])


def category_shares(
    reference: Mapping[Any, int], current: Mapping[Any, int], limit: int = MAX_CATEGORIES
) -> CategoryShares | None:
    """Shares of the most frequent categories of both sides, the rest summed as "(other)".

    >>> s = category_shares({"a": 3, "b": 1}, {"a": 1, "c": 1}, limit=2)
    >>> s.categories, s.reference, s.current
    (('a', 'c', '(other)'), (0.75, 0.0, 0.25), (0.5, 0.5, 0.0))
    """
    ref_total, cur_total = sum(reference.values()), sum(current.values())
    if not ref_total or not cur_total:
        return None
    combined = {
        label: reference.get(label, 0) / ref_total + current.get(label, 0) / cur_total
        for label in {*reference, *current}
    }
    ranked = sorted(combined, key=lambda label: (-combined[label], str(label)))
    shown, rest = ranked[:limit], ranked[limit:]
    ref_shares = [reference.get(label, 0) / ref_total for label in shown]
    cur_shares = [current.get(label, 0) / cur_total for label in shown]
    labels = [str(label) for label in shown]
    if rest:
        labels.append(OTHER)
        ref_shares.append(sum(reference.get(label, 0) for label in rest) / ref_total)
        cur_shares.append(sum(current.get(label, 0) for label in rest) / cur_total)
    return CategoryShares(tuple(labels), tuple(ref_shares), tuple(cur_shares))


def chart_for(
    reference: object,
    current: object,
    reference_summary: ColumnSummary,
    current_summary: ColumnSummary,
) -> Chart | None:
    """The chart data of one feature, by its kind.

    Numeric columns are drawn from their values; categorical ones from their summaries only,
    so their values may be passed in any form (e.g. the category counts).
    """
    if reference_summary.quantiles or current_summary.quantiles:
        return histogram(
            np.asarray(reference), np.asarray(current), reference_summary, current_summary
        )
    return category_shares(reference_summary.categories, current_summary.categories)
