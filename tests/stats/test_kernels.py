"""The compiled merge kernels equal the numpy fallbacks exactly, and scipy to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from keeneye.stats import _kernels
from keeneye.stats._ecdf import compare, prepare


def _samples(kind: str, n1: int, n2: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n1 + n2)
    if kind == "ties":
        return rng.poisson(4.0, n1).astype(float), rng.poisson(4.3, n2).astype(float)
    if kind == "disjoint":
        return rng.normal(0, 1, n1), rng.normal(50, 1, n2)
    if kind == "sparse":  # a few distinct window values, far apart in the reference
        return rng.normal(0, 1, n1), rng.choice([-3.0, 0.0, 0.5, 2.5], n2)
    return rng.normal(0, 1, n1), rng.normal(0.01, 1.1, n2)


@pytest.mark.parametrize("kind", ["continuous", "ties", "disjoint", "sparse"])
@pytest.mark.parametrize(("n1", "n2"), [(5, 5), (40_000, 20_000), (17, 30_000), (300_000, 7)])
def test_merge_counts_equal_searchsorted(kind: str, n1: int, n2: int) -> None:
    a, b = (np.sort(x) for x in _samples(kind, n1, n2))
    keys = np.unique(b)
    compiled = _kernels.count_at_or_below_compiled(a, keys)
    assert compiled is not None
    expected = np.searchsorted(a, keys, side="right")
    assert compiled.dtype == np.int64
    np.testing.assert_array_equal(compiled, expected)
    np.testing.assert_array_equal(_kernels.count_at_or_below_numpy(a, keys), expected)


def test_merge_counts_galloping_and_pure_python_agree() -> None:
    rng = np.random.default_rng(5)
    a = np.sort(rng.normal(size=5_000))
    keys = np.sort(rng.choice(a, 40, replace=False))  # long runs of the reference per key
    out = np.empty(keys.size, dtype=np.int64)
    _kernels._merge_counts_python(a, keys, out)  # the uncompiled source of the kernel
    np.testing.assert_array_equal(out, np.searchsorted(a, keys, side="right"))


@pytest.mark.parametrize("kind", ["continuous", "ties", "disjoint", "sparse"])
@pytest.mark.parametrize(("n1", "n2"), [(5, 5), (100_000, 60_000), (1_000_000, 1_000_000)])
def test_compare_kernel_equals_fallback_and_scipy(kind: str, n1: int, n2: int) -> None:
    a, b = (np.sort(x) for x in _samples(kind, n1, n2))
    fast = compare(prepare(a), b)
    with _kernels.numpy_only():
        assert not _kernels.kernel_available()
        reference = prepare(a)
        slow = compare(reference, b)
    assert fast == slow  # bit for bit
    np.testing.assert_array_equal(prepare(a).integral, reference.integral)
    assert fast.ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-9)
    assert fast.wasserstein == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-9)


def test_environment_variable_disables_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _kernels.kernel_available()
    monkeypatch.setenv(_kernels.DISABLE_ENV, "1")
    assert not _kernels.kernel_available()
    assert _kernels.count_at_or_below_compiled(np.arange(3.0), np.arange(2.0)) is None
    assert _kernels.ecdf_integral_compiled(np.arange(3.0)) is None


def test_dictionary_columns_are_counted_like_their_values() -> None:
    import pyarrow as pa

    from keeneye.stats._clean import category_counts

    rng = np.random.default_rng(9)
    labels = np.asarray(["a", "b", "c", None], dtype=object)[rng.integers(0, 4, 5_000)]
    parts = np.array_split(labels, 3)
    encoded = pa.chunked_array([pa.array(p).dictionary_encode() for p in parts])  # 3 dictionaries
    plain = category_counts(pa.chunked_array([pa.array(p) for p in parts]), "x")
    counted = category_counts(encoded, "x")
    assert counted == plain
    assert list(counted.counts) == list(plain.counts)  # first-seen order kept
    repeated = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, 0]), pa.array(["a", "b", "a"]))
    assert category_counts(repeated, "x").counts == {"a": 3, "b": 1}
