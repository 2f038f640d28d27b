"""One-column summaries: counts of every kind of value, and the usual descriptive statistics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from keeneye.errors import InputError
from keeneye.kinds import KINDS
from keeneye.schema import FeatureKind
from keeneye.stats._clean import ColumnValues, NumericCounts, category_counts, numeric_values
from keeneye.stats._robust import SortedMoments, quantiles, sorted_moments
from keeneye.stats.results import json_safe

FloatArray = NDArray[np.float64]

#: The quantiles every numeric summary reports.
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
#: How many of the most frequent categories a summary lists with their shares.
TOP_CATEGORIES = 10
#: Categorical summaries keep full counts up to this many categories (for quality checks).
MAX_KEPT_CATEGORIES = 10_000


@dataclass(frozen=True)
class ColumnSummary:
    """Counts and descriptive statistics of one column.

    ``count`` is the number of rows; ``missing`` counts ``None``/NA, ``nan``/``pos_inf``/
    ``neg_inf`` the non-finite floats and ``wrong_type`` values of the wrong type (a string in
    a numeric column; a mix of types in a categorical one counts the minority types).
    Numeric statistics are over finite values only and ``None`` when there are none;
    ``std`` is the sample standard deviation (ddof=1, as pandas' ``describe``).
    ``top`` lists up to 10 categories with their share of the non-missing values.
    """

    kind: FeatureKind
    count: int
    missing: int
    nan: int
    pos_inf: int
    neg_inf: int
    wrong_type: int
    distinct: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: Mapping[float, float] = field(default_factory=dict)
    top: tuple[tuple[Any, float], ...] = ()
    categories: Mapping[Any, int] = field(default_factory=dict)
    types: Mapping[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> int:
        """Values usable by the statistics: finite numbers / non-missing labels of the main type."""
        return self.count - self.missing - self.nan - self.pos_inf - self.neg_inf - self.wrong_type

    @property
    def missing_share(self) -> float:
        """Share of rows that are missing or NaN (0.0 for an empty column)."""
        return (self.missing + self.nan) / self.count if self.count else 0.0

    @property
    def constant(self) -> bool:
        """Exactly one distinct valid value."""
        return self.distinct == 1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (no numpy scalars, no NaN); quantile keys such as ``"0.05"``."""
        return json_safe(
            {
                "kind": self.kind.value,
                "count": self.count,
                "missing": self.missing,
                "nan": self.nan,
                "pos_inf": self.pos_inf,
                "neg_inf": self.neg_inf,
                "wrong_type": self.wrong_type,
                "distinct": self.distinct,
                "min": json_safe(self.min),
                "max": json_safe(self.max),
                "mean": json_safe(self.mean),
                "std": json_safe(self.std),
                "quantiles": {str(q): json_safe(v) for q, v in self.quantiles.items()},
                "top": [[json_safe(label), share] for label, share in self.top],
                "types": dict(self.types),
            }
        )


def summarize(values: ColumnValues, kind: FeatureKind | str) -> ColumnSummary:
    """Summarise one column as numeric or categorical (boolean counts as categorical).

    >>> s = summarize([1.0, 2.0, 3.0, float("nan"), float("inf"), None], "numeric")
    >>> s.count, s.missing, s.nan, s.pos_inf, s.mean, s.quantiles[0.5]
    (6, 1, 1, 1, 2.0, 2.0)
    >>> summarize(["a", "b", "a", None], "categorical").top
    (('a', 0.666...), ('b', 0.333...))
    """
    kind = FeatureKind(kind)
    family = KINDS[kind].summary  # the table of kinds (keeneye.kinds)
    if family == "numeric":
        return _numeric_summary(values)
    if family == "categorical":
        return _categorical_summary(values, kind)
    raise InputError(
        f"summarize supports numeric, categorical and boolean columns, not {kind.value}"
    )


def _numeric_summary(values: ColumnValues) -> ColumnSummary:
    finite, counts = numeric_values(values, "values")
    return summarize_sorted(np.sort(finite), counts)


def summarize_sorted(
    ordered: FloatArray,
    counts: NumericCounts,
    *,
    moments: SortedMoments | None = None,
) -> ColumnSummary:
    """The numeric summary of a column from its sorted finite values and the counts of the rest.

    What :func:`summarize` computes after sorting, for callers that already hold the sorted
    values (a fitted :class:`~keeneye.stats.ReferenceProfile` keeps them), so that nothing is
    sorted twice. ``moments``: the values' :func:`~keeneye.stats._robust.sorted_moments` when
    already computed (a fitted reference keeps them).

    >>> values, counts = numeric_values([3.0, 1.0, float("nan"), 2.0], "x")
    >>> s = summarize_sorted(np.sort(values), counts)
    >>> s.nan, s.min, s.quantiles[0.5]
    (1, 1.0, 2.0)
    """
    base: dict[str, Any] = {
        "kind": FeatureKind.NUMERIC,
        "count": counts.total,
        "missing": counts.missing,
        "nan": counts.nan,
        "pos_inf": counts.pos_inf,
        "neg_inf": counts.neg_inf,
        "wrong_type": counts.wrong_type,
    }
    if ordered.size == 0:
        return ColumnSummary(distinct=0, **base)
    values = quantiles(ordered, np.asarray(QUANTILES))
    moments = moments or sorted_moments(ordered)
    mean, std = moments.mean, moments.std
    return ColumnSummary(
        distinct=moments.distinct,
        min=float(ordered[0]),
        max=float(ordered[-1]),
        mean=mean,
        std=std,
        quantiles=dict(zip(QUANTILES, (float(v) for v in values), strict=True)),
        **base,
    )


def _categorical_summary(values: ColumnValues, kind: FeatureKind) -> ColumnSummary:
    counts = category_counts(values, "values")
    # With mixed types the most common type is the column's type; the others are wrong.
    main_type = max(counts.types, key=lambda t: counts.types[t]) if counts.types else None
    wrong = sum(n for t, n in counts.types.items() if t != main_type)
    ranked = sorted(counts.counts.items(), key=lambda item: (-item[1], str(item[0])))
    present = counts.present
    top = tuple((label, n / present) for label, n in ranked[:TOP_CATEGORIES])
    kept = dict(ranked[:MAX_KEPT_CATEGORIES])
    return ColumnSummary(
        kind=kind,
        count=counts.total,
        missing=counts.missing,
        nan=0,
        pos_inf=0,
        neg_inf=0,
        wrong_type=wrong,
        distinct=len(counts.counts),
        top=top,
        categories=kept,
        types=dict(counts.types),
    )
