"""The reference side of the drift engine, fitted once per baseline and reused for every window.

Fitting does all the work that depends only on the reference: sorting every numeric column's
finite values, its standard deviation and quantile bin edges with their counts, and the count
of every category. Detection then only has to sort the current window and look its values up
in the stored reference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from keeneye.errors import ColumnError, InputError
from keeneye.kinds import KINDS, untested_reason
from keeneye.schema import FeatureKind
from keeneye.stats._clean import (
    CategoryCounts,
    ColumnValues,
    NumericCounts,
    SortedNumbers,
    category_counts,
    column_size,
    numeric_values,
    sorted_numbers,
)
from keeneye.stats._ecdf import SortedReference, prepare
from keeneye.stats._kernels import KERNEL_FROM, preload
from keeneye.stats._parallel import map_columns
from keeneye.stats._robust import SortedMoments, population_std, sorted_moments
from keeneye.stats.distance import DEFAULT_BINS, bin_counts, quantile_edges

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class NumericReference:
    """A numeric reference column: sorted finite values and what the effect sizes need."""

    sorted_values: FloatArray
    prepared: SortedReference  # sorted values + running ECDF integral, for KS / Wasserstein
    counts: NumericCounts
    std: float  # population std (ddof=0): the unit of the normed Wasserstein distance
    edges: FloatArray  # inner edges of the reference-quantile bins
    bin_counts: FloatArray
    #: Mean, sample standard deviation and distinct values: the column summary's, computed
    #: in the same passes as ``std``.
    moments: SortedMoments | None = None


def numeric_reference(
    ordered: FloatArray, counts: NumericCounts, bins: int, *, moments: SortedMoments | None = None
) -> NumericReference:
    """The fitted reference of a numeric column from its sorted finite values (at least one).

    Two passes over the values give the mean, both standard deviations (the population one
    normalises the Wasserstein distance, the sample one goes into the column's summary) and
    the number of distinct values (``moments``: those, when already computed).
    """
    n = ordered.size
    moments = moments or sorted_moments(ordered)
    sample_std = moments.std
    if sample_std is not None and math.isfinite(sample_std):
        std = sample_std * math.sqrt((n - 1) / n)
    else:  # one value, or a sample std beyond the largest float (values near ±1.8e308)
        std = population_std(ordered)
    edges = quantile_edges(ordered, bins)
    return NumericReference(
        sorted_values=ordered,
        prepared=prepare(ordered),
        counts=counts,
        std=std,
        edges=edges,
        bin_counts=bin_counts(ordered, edges),
        moments=moments,
    )


@dataclass(frozen=True)
class CategoricalReference:
    """A categorical or boolean reference column: counts per category."""

    counts: Mapping[Any, int]
    count_vector: FloatArray  # the counts in the order of ``counts``
    missing: int
    total: int
    main_type: str


@dataclass(frozen=True)
class UntestedReference:
    """A reference column that cannot be tested, with the reason."""

    reason: str
    n: int = 0


ColumnReference = NumericReference | CategoricalReference | UntestedReference


def describe_dropped(counts: NumericCounts) -> str:
    """'3 NaN, 1 +inf' style summary of the non-finite values in a numeric column."""
    parts = [
        f"{counts.missing} missing" if counts.missing else "",
        f"{counts.nan} NaN" if counts.nan else "",
        f"{counts.pos_inf} +inf" if counts.pos_inf else "",
        f"{counts.neg_inf} -inf" if counts.neg_inf else "",
    ]
    return ", ".join(p for p in parts if p) or "no rows"


def numeric_problem(
    values: ColumnValues, side: str, *, sort: bool = False
) -> tuple[FloatArray, NumericCounts] | str:
    """Finite values and counts of a numeric column, or why it cannot be tested.

    With ``sort`` the values come sorted (:func:`~keeneye.stats._clean.sorted_numbers`).
    """
    try:
        if sort:
            ordered = sorted_numbers(values, f"the {side} column")
            finite, counts = ordered.values, ordered.counts
        else:
            finite, counts = numeric_values(values, f"the {side} column")
    except InputError as exc:
        return str(exc)
    if counts.wrong_type:
        numbers = counts.total - counts.wrong_type - counts.missing
        prefix = "mixed types: " if numbers else "not a numeric column: "
        return (
            f"{prefix}{counts.wrong_type} of {counts.total} {side} values are not numbers "
            f"(e.g. {counts.wrong_type_example}); declare the column categorical if it holds labels"
        )
    if finite.size == 0:
        return f"no finite values in the {side} data ({describe_dropped(counts)})"
    return finite, counts


def categorical_problem(values: ColumnValues, side: str) -> CategoryCounts | str:
    """Category counts of a column, or why it cannot be tested."""
    try:
        counts = category_counts(values, f"the {side} column")
    except InputError as exc:
        return str(exc)
    if counts.mixed_types:
        mix = ", ".join(f"{name} in {n} rows" for name, n in sorted(counts.types.items()))
        return f"mixed types in the {side} data: {mix}"
    if counts.present == 0:
        return f"no non-missing values in the {side} data ({counts.total} rows)"
    return counts


def _fit_numeric(values: ColumnValues, bins: int) -> ColumnReference:
    checked = numeric_problem(values, "reference", sort=True)
    if isinstance(checked, str):
        return UntestedReference(checked)
    ordered, counts = checked
    if ordered[0] == ordered[-1]:
        return UntestedReference(
            f"constant in the reference (every value is {float(ordered[0])!r}): distribution tests "
            "are uninformative; the quality check reports current values outside it",
            ordered.size,
        )
    known = values.moments if isinstance(values, SortedNumbers) else None
    return numeric_reference(ordered, counts, bins, moments=known)


def _fit_categorical(values: ColumnValues) -> ColumnReference:
    checked = categorical_problem(values, "reference")
    if isinstance(checked, str):
        return UntestedReference(checked)
    counts = dict(sorted(checked.counts.items(), key=lambda item: (-item[1], str(item[0]))))
    return CategoricalReference(
        counts=counts,
        count_vector=np.fromiter(counts.values(), np.float64, len(counts)),
        missing=checked.missing,
        total=checked.total,
        main_type=next(iter(checked.types)),
    )


class ReferenceProfile:
    """Everything the drift tests need from a reference dataset, computed once.

    Parameters are given to :meth:`fit`; a profile is immutable once fitted.

    >>> rng = np.random.default_rng(0)
    >>> profile = ReferenceProfile.fit(
    ...     {"age": rng.normal(40, 10, 500), "city": np.array(["a", "b"] * 250, dtype=object)},
    ...     {"age": "numeric", "city": "categorical"},
    ... )
    >>> profile.features
    ('age', 'city')
    """

    __slots__ = ("_columns", "_kinds", "bins")

    def __init__(
        self,
        columns: Mapping[str, ColumnReference],
        kinds: Mapping[str, FeatureKind],
        bins: int,
    ) -> None:
        self._columns = dict(columns)
        self._kinds = dict(kinds)
        self.bins = bins

    @classmethod
    def fit(
        cls,
        columns: Mapping[str, ColumnValues],
        kinds: Mapping[str, FeatureKind | str],
        *,
        bins: int = DEFAULT_BINS,
    ) -> ReferenceProfile:
        """Fit a profile on reference columns.

        Parameters
        ----------
        columns
            Column name → 1-D array. Numeric columns as numbers (NaN/±inf allowed and
            counted); categorical/boolean columns as arrays of str/bool/int with ``None`` for
            missing.
        kinds
            Column name → :class:`~keeneye.schema.FeatureKind` (or its value) for every column.
            Kinds that are not testable (text, datetime, …) are kept as "not tested" features.
        bins
            Number of reference-quantile bins for PSI / Jensen–Shannon / Hellinger / KL.

        Raises
        ------
        ColumnError
            A column has no kind, or a kind that is not a known feature kind.
        """
        if bins < 2:
            raise InputError(f"bins must be at least 2, got {bins}")
        resolved: dict[str, FeatureKind] = {}
        for name in kinds:
            if name not in columns:
                raise ColumnError(name, "has a kind but no reference column; pass its values")
        for name in columns:
            if name not in kinds:
                raise ColumnError(name, "has no feature kind; add it to `kinds`")
            try:
                resolved[name] = FeatureKind(kinds[name])
            except ValueError:
                allowed = ", ".join(k.value for k in FeatureKind)
                raise ColumnError(
                    name, f"unknown feature kind {kinds[name]!r}; use one of {allowed}"
                ) from None

        def fit_one(name: str) -> ColumnReference:
            kind = resolved[name]
            family = KINDS[kind].drift  # the table of kinds (keeneye.kinds)
            if family == "numeric":
                return _fit_numeric(columns[name], bins)
            if family == "categorical":
                return _fit_categorical(columns[name])
            return UntestedReference(untested_reason(kind))

        names = list(columns)
        sizes = [column_size(columns[name]) for name in names]
        if sizes and max(sizes) >= KERNEL_FROM:
            preload()  # numba's load overlaps the fitting; the first merge then need not wait
        total = sum(sizes)
        fitted = dict(zip(names, map_columns(fit_one, names, total), strict=True))
        return cls(fitted, resolved, bins)

    @property
    def features(self) -> tuple[str, ...]:
        """Feature names in the order they were fitted."""
        return tuple(self._columns)

    def kind(self, feature: str) -> FeatureKind:
        """The feature's kind (raises :class:`ColumnError` for an unknown feature)."""
        if feature not in self._kinds:
            raise ColumnError(feature, "is not in the reference profile")
        return self._kinds[feature]

    def column(self, feature: str) -> ColumnReference:
        """The fitted reference of one feature."""
        if feature not in self._columns:
            raise ColumnError(feature, "is not in the reference profile")
        return self._columns[feature]

    def __repr__(self) -> str:
        return f"ReferenceProfile(features={list(self._columns)!r}, bins={self.bins})"
