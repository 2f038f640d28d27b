"""What a report needs to draw one feature: shared-bin histograms or category shares.

Computed by :func:`keeneye.compare` while the columns are at hand (a report keeps no raw data).
Numeric histograms share their bins across both sides; the bins span the 1st–99th percentiles
of both sides (padded by 5 %) so that a few extreme values do not squash the plot into one bar;
values outside are counted, not dropped silently. Integer-valued columns get bins centred on
the integers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from keeneye.profile.report import BinCounts
from keeneye.stats import ColumnSummary
from keeneye.stats.results import json_safe

#: Bars in a numeric histogram.
HISTOGRAM_BINS = 40
#: Bins kept on either side of a baseline's grid (beyond: counted as outside).
GRID_REACH = 2000
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
    return all(_all_integers(f) for f in finite_sides)


#: Values checked at a time by :func:`_all_integers` (a block that stays in the cache).
_INTEGER_BLOCK = 65_536


def _all_integers(values: np.ndarray) -> bool:
    """Whether every value is a whole number, block by block: no column-sized temporary (at a
    million values its page faults cost more than the rounding), and an early stop."""
    rounded = np.empty(min(values.size, _INTEGER_BLOCK))
    for start in range(0, values.size, _INTEGER_BLOCK):
        block = values[start : start + _INTEGER_BLOCK]
        if not np.array_equal(block, np.round(block, out=rounded[: block.size])):
            return False
    return True


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


def baseline_grid(summary: ColumnSummary, bins: int = HISTOGRAM_BINS) -> tuple[float, float] | None:
    """``(origin, width)`` of the grid a numeric column's windows are counted on: ``bins``
    bins over the baseline's 1st–99th percentiles padded by 5 % (bins centred on the integers
    for an integer-valued baseline), as :func:`histogram` draws the baseline alone; ``None``
    without finite baseline values.

    >>> from keeneye.stats import summarize
    >>> baseline_grid(summarize(np.arange(101.0), "numeric"), bins=4)
    (0.5, 25.0)
    >>> baseline_grid(summarize(np.linspace(0, 1, 101), "numeric"), bins=4)
    (-0.039, 0.2695)
    """
    q = summary.quantiles
    if not q or summary.min is None or summary.max is None:
        return None
    lo, hi = float(q[0.01]), float(q[0.99])
    scale = max(abs(lo), abs(hi), 1.0)
    if not (np.isfinite(lo) and np.isfinite(hi)) or scale >= 2.0**50:
        return None
    if hi - lo <= scale * 1e-9:
        lo, hi = lo - max(0.5, scale * 1e-6), hi + max(0.5, scale * 1e-6)
    if summary.min == round(summary.min) and all(v == round(v) for v in q.values()):
        step = max(1.0, float(np.ceil((hi - lo + 1) / bins)))
        return float(np.floor(lo) - 0.5), step
    pad = 0.05 * (hi - lo)
    return round(lo - pad, 12), round((hi - lo + 2 * pad) / bins, 12)


def grid_counts(
    values: np.ndarray, origin: float, width: float, reach: int = GRID_REACH
) -> BinCounts:
    """Finite ``values`` counted on the grid ``(origin, width)``; bins further than ``reach``
    bins from the grid's origin are counted as ``below``/``above``.

    >>> grid_counts(np.array([0.5, 0.7, 2.2, -9.0, np.nan]), 0.0, 1.0, reach=5)
    BinCounts(origin=0.0, width=1.0, first=0, counts=(2, 0, 1), below=1, above=0)
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    index = np.floor((finite - origin) / width)
    below = int(np.count_nonzero(index < -reach))
    above = int(np.count_nonzero(index > reach))
    kept = index[(index >= -reach) & (index <= reach)].astype(np.int64)
    if kept.size == 0:
        return BinCounts(origin, width, 0, (), below, above)
    first = int(kept.min())
    counts = np.bincount(kept - first)
    return BinCounts(origin, width, first, tuple(int(c) for c in counts), below, above)


def _on_grid(part: BinCounts, origin: float, width: float) -> tuple[int, np.ndarray, int, int]:
    """``(first, counts, below, above)`` of ``part`` on the grid ``(origin, width)``: the same
    counts when it is on that grid, else spread over its bins in proportion to their overlap
    (values taken as uniform within a bin)."""
    if part.origin == origin and part.width == width:
        return part.first, np.asarray(part.counts, dtype=np.float64), part.below, part.above
    edges = part.origin + part.width * np.arange(part.first, part.first + len(part.counts) + 1)
    lo = int(np.floor((edges[0] - origin) / width))
    hi = int(np.ceil((edges[-1] - origin) / width))
    below, above = part.below, part.above
    if lo < -GRID_REACH or hi > GRID_REACH + 1:  # another scale altogether: counted outside
        n = int(sum(part.counts))
        return (
            0,
            np.zeros(0),
            below + (n if lo < -GRID_REACH else 0),
            above + (n if lo >= -GRID_REACH else 0),
        )
    cumulative = np.concatenate(([0.0], np.cumsum(part.counts, dtype=np.float64)))
    mine = origin + width * np.arange(lo, hi + 1, dtype=np.float64)
    return lo, np.diff(np.interp(mine, edges, cumulative)), below, above


def merge_grid(
    parts: Sequence[BinCounts],
    reference: np.ndarray,
    origin: float,
    width: float,
    bins: int = HISTOGRAM_BINS,
) -> Histogram | None:
    """Add up windows' stored grid counts into one histogram of a range, with the sorted
    finite ``reference`` values counted in the same bins (``None`` without any count).

    Windows counted on the grid ``(origin, width)`` (the baseline's) add up exactly; a window
    counted on another baseline's grid is spread over this one in proportion to the overlap.
    The bins drawn are the baseline's ``bins`` bins, widened to the range's 1st–99th
    percentiles when its values lie further out; values beyond are counted outside. Wide
    spans merge neighbouring bins (at most ``4 * bins`` bars).

    >>> a = grid_counts(np.array([0.5, 1.5, 1.6, 9.0]), 0.0, 1.0, reach=5)
    >>> h = merge_grid([a, a], np.array([0.2, 1.2, 1.8]), 0.0, 1.0, bins=2)
    >>> h.edges, h.reference, h.current, h.outside_current
    ((0.0, 1.0, 2.0), (1, 2), (2, 4), (0, 2))
    >>> h = merge_grid([BinCounts(0.0, 2.0, 0, (4,))], np.array([0.5]), 0.0, 1.0, bins=2)
    >>> h.current
    (2, 2)
    """
    placed = [_on_grid(p, origin, width) for p in parts if p.counts]
    placed = [p for p in placed if p[1].size]
    if not placed:
        return None
    first = min(p[0] for p in placed)
    last = max(p[0] + p[1].size for p in placed)
    total = np.zeros(last - first, dtype=np.float64)
    for start_k, counts, _, _ in placed:
        total[start_k - first : start_k - first + counts.size] += counts
    below = sum(p[2] for p in placed)
    above = sum(p[3] for p in placed)
    cumulative = np.cumsum(total)
    n = float(cumulative[-1])
    # The drawn bins: the baseline's, widened to the range's 1st–99th percentiles.
    k01 = first + int(np.searchsorted(cumulative, 0.01 * n, side="left"))
    k99 = first + int(np.searchsorted(cumulative, 0.99 * n, side="left"))
    lo_k, hi_k = min(0, k01), max(bins - 1, k99)
    group = max(1, -(-(hi_k - lo_k + 1) // (4 * bins)))
    hi_k = lo_k + group * (-(-(hi_k - lo_k + 1) // group)) - 1
    shown = np.zeros(hi_k - lo_k + 1, dtype=np.float64)
    inside = total[max(lo_k, first) - first : max(min(hi_k + 1, last) - first, 0)]
    offset = max(lo_k, first) - lo_k
    shown[offset : offset + inside.size] = inside
    below += round(float(total[: max(0, lo_k - first)].sum()))
    above += round(float(total[max(0, hi_k + 1 - first) :].sum()))
    current = shown.reshape(-1, group).sum(axis=1)
    edges = origin + width * np.arange(lo_k, hi_k + 2, group, dtype=np.float64)
    ordered = np.asarray(reference, dtype=np.float64)
    before = np.searchsorted(ordered, edges, side="left")
    return Histogram(
        edges=tuple(float(e) for e in edges),
        reference=tuple(int(c) for c in np.diff(before)),
        current=tuple(round(float(c)) for c in current),
        outside_reference=(int(before[0]), int(ordered.size - before[-1])),
        outside_current=(below, above),
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
