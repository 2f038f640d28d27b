"""The fast paths (Arrow inputs, shared counts, sorted summaries) equal the plain ones exactly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from keeneye.errors import InputError
from keeneye.report.charts import histogram
from keeneye.stats import (
    QUANTILES,
    ReferenceProfile,
    check_quality,
    check_quality_sorted,
    detect_drift,
    summarize,
    summarize_sorted,
)
from keeneye.stats._clean import category_counts, numeric_values
from keeneye.stats._robust import quantiles


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
