"""The fast paths (Arrow inputs, shared counts, sorted summaries) equal the plain ones exactly."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from keeneye.errors import InputError
from keeneye.profile.reference import Reference
from keeneye.report.charts import histogram
from keeneye.stats import (
    QUANTILES,
    ReferenceProfile,
    _kernels,
    check_quality,
    check_quality_sorted,
    detect_drift,
    summarize,
    summarize_sorted,
)
from keeneye.stats._clean import category_counts, numeric_values, sorted_numbers
from keeneye.stats._robust import quantiles, sorted_moments
from keeneye.stats.profile import NumericReference


def _labels(rng: np.random.Generator, n: int) -> np.ndarray:
    values = np.asarray(["a", "b", "c", "d"], dtype=object)[rng.integers(0, 4, n)]
    values[rng.random(n) < 0.05] = None
    return values


@pytest.mark.parametrize("chunks", [1, 3])
def test_arrow_category_counts_equal_numpy_counts(chunks: int) -> None:
    rng = np.random.default_rng(7)
    labels = _labels(rng, 3_000)
    arrow = pa.chunked_array([pa.array(part) for part in np.array_split(labels, chunks)])
    from_numpy = category_counts(labels, "x")
    from_arrow = category_counts(arrow, "x")
    assert from_arrow == from_numpy
    assert list(from_arrow.counts) == list(from_numpy.counts)  # same first-seen order
    assert category_counts(from_arrow, "x") is from_arrow  # counts pass through


def test_arrow_booleans_and_dictionary_strings() -> None:
    booleans = [True, None, False, True]
    assert category_counts(pa.array(booleans), "x") == category_counts(
        np.asarray(booleans, dtype=object), "x"
    )
    encoded = pa.array(["x", "y", None, "x"]).dictionary_encode()
    assert category_counts(encoded, "x").counts == {"x": 2, "y": 1}


def test_arrow_category_counts_reject_unsupported_types() -> None:
    with pytest.raises(InputError, match="cannot be used as categories"):
        category_counts(pa.array([[1, 2]]), "the reference column")


def test_engine_gives_the_same_results_from_arrow_and_from_counts() -> None:
    rng = np.random.default_rng(11)
    ref_num, cur_num = rng.normal(0, 1, 5_000), rng.normal(0.2, 1, 4_000)
    ref_num[::97] = np.nan
    ref_cat, cur_cat = _labels(rng, 5_000), _labels(rng, 4_000)
    kinds = {"x": "numeric", "c": "categorical"}
    plain = detect_drift(
        ReferenceProfile.fit({"x": ref_num, "c": ref_cat}, kinds), {"x": cur_num, "c": cur_cat}
    )
    arrow = detect_drift(
        ReferenceProfile.fit(
            {"x": pa.chunked_array([ref_num[:2_000], ref_num[2_000:]]), "c": pa.array(ref_cat)},
            kinds,
        ),
        {"x": pa.array(cur_num), "c": category_counts(pa.array(cur_cat), "c")},
    )
    assert arrow.to_dict() == plain.to_dict()


@pytest.mark.parametrize("seed", range(5))
def test_quantiles_of_sorted_values_are_numpys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    probabilities = [np.asarray(QUANTILES), np.arange(1, 10) / 10, np.array([0.0, 1.0])]
    for n in (1, 2, 3, 7, 100, 1_001):
        for values in (rng.normal(size=n), rng.integers(0, 3, n).astype(float)):
            ordered = np.sort(values)
            for p in probabilities:
                assert np.array_equal(quantiles(ordered, p), np.quantile(ordered, p))


def test_sorted_summary_quality_and_histogram_equal_the_plain_ones() -> None:
    rng = np.random.default_rng(3)
    ref = np.append(rng.normal(0, 1, 2_000), [np.nan, np.inf])
    cur = np.append(rng.normal(0.5, 1.5, 1_500), [-np.inf, np.nan, np.nan])
    ref_finite, ref_counts = numeric_values(ref, "ref")
    cur_finite, cur_counts = numeric_values(cur, "cur")
    ref_sorted, cur_sorted = np.sort(ref_finite), np.sort(cur_finite)
    reference = summarize(ref, "numeric")
    assert summarize_sorted(ref_sorted, ref_counts) == reference
    plain = check_quality(reference, cur)
    fast = check_quality_sorted(reference, cur_sorted, cur_counts)
    assert fast == plain
    assert plain.out_of_range_count > 0
    for bins in (5, 40):
        assert histogram(
            ref_sorted, cur_sorted, reference, plain.current, bins, is_sorted=True
        ) == (histogram(ref, cur, reference, plain.current, bins))
    integers = np.sort(rng.integers(0, 6, 500).astype(float))
    s = summarize(integers, "numeric")
    assert histogram(integers, integers, s, s, is_sorted=True) == histogram(
        integers, integers, s, s
    )


def _with_non_finite(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    values = rng.normal(0.0, 3.0, n)
    spots = rng.random(n) < share
    values[spots] = rng.choice([np.nan, np.inf, -np.inf], int(spots.sum()))
    return values


@pytest.mark.parametrize("share", [0.0, 0.01])
@pytest.mark.parametrize("shape", ["numpy", "one chunk", "chunks", "chunks with nulls"])
def test_sorted_numbers_equal_sorting_the_finite_values(share: float, shape: str) -> None:
    """Sorted first and checked at the ends: the same values and counts as filtering first."""
    rng = np.random.default_rng(11)
    values = _with_non_finite(rng, 50_000, share)
    column: object = values
    if shape != "numpy":
        parts = np.array_split(values, 1 if shape == "one chunk" else 4)
        arrays = [pa.array(p) for p in parts]
        if shape == "chunks with nulls":
            arrays[1] = pa.array(parts[1], mask=rng.random(parts[1].size) < 0.1)
        column = pa.chunked_array(arrays)
    finite, counts = numeric_values(column, "x")
    original = values.copy()
    # A buffer may be given; when the values are read from it, they are sorted in a copy.
    own = () if shape == "chunks with nulls" else (values,)
    for buffer in (None, np.empty(60_000), *own):
        result = sorted_numbers(column, "x", buffer=buffer)
        np.testing.assert_array_equal(result.values, np.sort(finite))
        assert result.counts == counts
        assert _kernels.with_sentinel(result.values)[-1] == np.inf
        np.testing.assert_array_equal(values, original)


@pytest.mark.parametrize("kind", ["normal", "ties", "offset"])
def test_sorted_moments_are_exact_to_rounding(kind: str) -> None:
    """The compiled moments against exactly rounded sums (math.fsum); without numba they are
    numpy's own. With a large offset and a small spread numpy's std is off by ~1e-8 (the
    rounding of its mean); the compiled kernel corrects for it."""
    rng = np.random.default_rng(12)
    n = 3 * _kernels.KERNEL_FROM + 5
    values = {
        "normal": rng.normal(0.0, 1.0, n),
        "ties": rng.poisson(4.0, n).astype(float),
        "offset": rng.normal(1e9, 1e-3, n),
    }[kind]
    ordered = np.sort(values)
    mean = math.fsum(values) / n
    deviations = values - mean
    residual = math.fsum(deviations)
    exact_mean = mean + residual / n
    exact_std = math.sqrt((math.fsum(deviations * deviations) - residual * residual / n) / (n - 1))
    distinct = np.unique(values).size
    compiled = sorted_moments(ordered)
    assert compiled.mean == pytest.approx(exact_mean, rel=1e-15, abs=1e-15 * exact_std)
    assert compiled.std == pytest.approx(exact_std, rel=1e-13)
    assert compiled.distinct == distinct
    plain = _numpy_only(sorted_moments, ordered)
    assert plain.mean == pytest.approx(values.mean(), rel=1e-15, abs=1e-15 * exact_std)
    assert plain.std == pytest.approx(values.std(ddof=1), rel=1e-15)
    assert plain.distinct == distinct


def _numpy_only(function: Any, *args: Any) -> Any:
    with _kernels.numpy_only():
        return function(*args)


def test_fitted_reference_summaries_equal_the_plain_ones() -> None:
    """A reference's summary reuses the fit's moments: the same as summarising the column,
    and the same again after a round trip through the stored form."""
    rng = np.random.default_rng(13)
    n = 2 * _kernels.KERNEL_FROM
    table = pa.table({"x": rng.lognormal(0.0, 1.0, n), "k": rng.poisson(3.0, n).astype(float)})
    fitted = Reference.fit(table)
    stored = Reference.from_bytes(fitted.to_bytes())
    for name in ("x", "k"):
        plain = summarize(table.column(name), "numeric")
        summary = fitted.summaries[name]
        assert summary.distinct == plain.distinct
        assert (summary.min, summary.max, summary.quantiles) == (
            plain.min,
            plain.max,
            plain.quantiles,
        )
        assert summary.mean == pytest.approx(plain.mean, rel=1e-14)
        assert summary.std == pytest.approx(plain.std, rel=1e-12)
        column = fitted.profile.column(name)
        assert isinstance(column, NumericReference)
        assert column.std == pytest.approx(float(np.std(table.column(name))), rel=1e-12)
        again = stored.profile.column(name)
        assert isinstance(again, NumericReference) and again.std == column.std
