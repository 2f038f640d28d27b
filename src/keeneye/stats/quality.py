"""Data-quality checks of a current column against the reference's summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from keeneye.kinds import numeric
from keeneye.schema import FeatureKind
from keeneye.stats._clean import ColumnValues, NumericCounts, numeric_values
from keeneye.stats._robust import SortedMoments
from keeneye.stats.results import json_safe
from keeneye.stats.summary import ColumnSummary, summarize, summarize_sorted

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class QualityReport:
    """What changed in a column's quality between the reference and the current data.

    ``out_of_range_share``: share of the current finite values outside the reference's
    [min, max] (``None`` for categorical columns or an empty side). ``new_categories``: labels
    absent from the reference with their current counts. ``missing_share_change`` is current
    minus reference (missing + NaN over rows). ``constant``: the current column has exactly one
    distinct valid value. ``type_mismatches``: current values of the wrong type. ``issues``
    lists each finding as a sentence.
    """

    kind: FeatureKind
    current: ColumnSummary
    out_of_range_share: float | None
    out_of_range_count: int
    new_categories: Mapping[Any, int]
    missing_share_reference: float
    missing_share_current: float
    constant: bool
    type_mismatches: int
    issues: tuple[str, ...] = field(default_factory=tuple)

    @property
    def missing_share_change(self) -> float:
        return self.missing_share_current - self.missing_share_reference

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (no numpy scalars, no NaN)."""
        return json_safe(
            {
                "kind": self.kind.value,
                "out_of_range_share": json_safe(self.out_of_range_share),
                "out_of_range_count": self.out_of_range_count,
                "new_categories": json_safe(self.new_categories),
                "missing_share_reference": self.missing_share_reference,
                "missing_share_current": self.missing_share_current,
                "missing_share_change": self.missing_share_change,
                "constant": self.constant,
                "type_mismatches": self.type_mismatches,
                "issues": list(self.issues),
                "current": self.current.to_dict(),
            }
        )


def _count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 value', '3 values'."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def check_quality(
    reference: ColumnSummary, current: ColumnValues, *, wrong_type: int = 0
) -> QualityReport:
    """Check the current values of a column against the reference's :class:`ColumnSummary`.

    ``wrong_type`` counts values among ``current``'s missing ones that arrived with the wrong
    type (a store keeps them as missing and marks them): they are reported as wrong-typed, not
    as missing, so that the missing share and the findings agree with the invalid count.

    >>> ref = summarize([0.0, 5.0, 10.0], "numeric")
    >>> report = check_quality(ref, [1.0, 11.0, float("nan"), None])
    >>> report.out_of_range_share, report.missing_share_current
    (0.5, 0.5)
    >>> report.issues[0]
    '1 of 2 values (50.0%) outside the reference range [0, 10]'
    """
    summary = _retyped(summarize(current, reference.kind), wrong_type)
    out_count: int | None = None
    if numeric(reference.kind):
        finite, _ = numeric_values(current, "current")
        if finite.size and reference.min is not None and reference.max is not None:
            out_count = int(np.count_nonzero((finite < reference.min) | (finite > reference.max)))
    return _report(reference, summary, out_count)


def _retyped(summary: ColumnSummary, wrong_type: int) -> ColumnSummary:
    """``summary`` with ``wrong_type`` of its missing values (Arrow nulls, or the NaN numeric
    columns turn them into) counted as wrong-typed instead."""
    if wrong_type <= 0:
        return summary
    from_missing = min(wrong_type, summary.missing)
    from_nan = min(wrong_type - from_missing, summary.nan)
    return replace(
        summary,
        missing=summary.missing - from_missing,
        nan=summary.nan - from_nan,
        wrong_type=summary.wrong_type + from_missing + from_nan,
    )


def check_quality_sorted(
    reference: ColumnSummary,
    ordered: FloatArray,
    counts: NumericCounts,
    *,
    moments: SortedMoments | None = None,
) -> QualityReport:
    """:func:`check_quality` of a numeric column given as its sorted finite values and counts.

    The out-of-range count takes two binary searches instead of a pass over the values.

    >>> ref = summarize([0.0, 5.0, 10.0], "numeric")
    >>> values, counts = numeric_values([11.0, 1.0, float("nan"), None], "current")
    >>> check_quality_sorted(ref, np.sort(values), counts).out_of_range_share
    0.5
    """
    summary = summarize_sorted(ordered, counts, moments=moments)
    out_count: int | None = None
    if ordered.size and reference.min is not None and reference.max is not None:
        below = int(np.searchsorted(ordered, reference.min, side="left"))
        above = ordered.size - int(np.searchsorted(ordered, reference.max, side="right"))
        out_count = below + above
    return _report(reference, summary, out_count)


def _report(
    reference: ColumnSummary, summary: ColumnSummary, out_count: int | None
) -> QualityReport:
    """The findings, given the current summary and (numeric) the out-of-range count."""
    issues: list[str] = []
    out_share: float | None = None
    new: dict[Any, int] = {}
    if numeric(reference.kind):
        if out_count is not None:
            n_finite = summary.valid
            out_share = out_count / n_finite
            if out_count:
                issues.append(
                    f"{out_count} of {_count(n_finite, 'value')} ({out_share:.1%}) outside "
                    f"the reference range [{reference.min:.4g}, {reference.max:.4g}]"
                )
    else:
        new = {
            label: n for label, n in summary.categories.items() if label not in reference.categories
        }
        if new:
            shown = ", ".join(repr(label) for label in list(new)[:5])
            more = f" and {len(new) - 5} more" if len(new) > 5 else ""
            issues.append(
                f"{_count(len(new), 'category', 'categories')} not in the reference: {shown}{more}"
            )
    before, after = f"{reference.missing_share:.1%}", f"{summary.missing_share:.1%}"
    if before != after:  # a change too small to print would read "from 0.0% to 0.0%"
        issues.append(f"missing share changed from {before} to {after}")
    if summary.constant:
        issues.append("column is constant")
    if summary.wrong_type:
        issues.append(f"{_count(summary.wrong_type, 'value')} of the wrong type")
    if reference.types and summary.types:
        ref_main = max(reference.types, key=lambda t: reference.types[t])
        cur_main = max(summary.types, key=lambda t: summary.types[t])
        if ref_main != cur_main:
            issues.append(f"values are {cur_main}, the reference's are {ref_main}")
    return QualityReport(
        kind=reference.kind,
        current=summary,
        out_of_range_share=out_share,
        out_of_range_count=out_count or 0,
        new_categories=new,
        missing_share_reference=reference.missing_share,
        missing_share_current=summary.missing_share,
        constant=summary.constant,
        type_mismatches=summary.wrong_type,
        issues=tuple(issues),
    )
