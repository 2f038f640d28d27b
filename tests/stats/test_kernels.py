"""The compiled merge kernels against the numpy fallbacks and scipy.

KS is scipy's to the bit on both paths; the merge sums the Wasserstein terms in another order
than the fallback (and scipy), which leaves differences near 1e-15 relative.
"""

from __future__ import annotations

import math

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
@pytest.mark.parametrize(
    ("n1", "n2"), [(5, 5), (100_000, 60_000), (20_000, 300_000), (1_000_000, 1_000_000)]
)
def test_compare_kernel_equals_fallback_and_scipy(kind: str, n1: int, n2: int) -> None:
    a, b = (np.sort(x) for x in _samples(kind, n1, n2))
    fast = compare(prepare(a), b)
    with _kernels.numpy_only():
        assert not _kernels.kernel_available()
        slow = compare(prepare(a), b)
    assert fast.ks == slow.ks  # bit for bit
    assert fast.wasserstein == pytest.approx(slow.wasserstein, rel=1e-12, abs=1e-300)
    assert fast.ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-9)
    assert fast.wasserstein == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-9)


def _scipy_extremes(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """max and min of F_a − F_b over the pooled points, as ``scipy.stats.ks_2samp`` computes."""
    pooled = np.concatenate([a, b])
    cddiffs = (
        np.searchsorted(a, pooled, side="right") / a.size
        - np.searchsorted(b, pooled, side="right") / b.size
    )
    return float(cddiffs.max()), float(cddiffs.min())


def test_merge_extremes_are_scipys_to_the_bit() -> None:
    """Thousands of small samples, many with ties across and within the two sides."""
    rng = np.random.default_rng(3)
    for trial in range(3_000):
        n1, n2 = (int(n) for n in rng.integers(1, 50, 2))
        top = int(rng.integers(1, 10))
        a = rng.integers(0, top, n1).astype(float)
        b = rng.integers(0, top, n2).astype(float) + (3.0 if trial % 5 == 0 else 0.0)
        if trial % 2:
            a = a + rng.normal(size=n1) * (trial % 3)
        a_s, b_s = _kernels.sort_with_sentinel(a), _kernels.sort_with_sentinel(b)
        merged = _kernels.merge_statistics(_kernels.with_sentinel(a_s), _kernels.with_sentinel(b_s))
        assert merged is not None
        assert (merged.high, merged.low) == _scipy_extremes(a_s, b_s)
        assert merged.wasserstein_scaled == pytest.approx(
            stats.wasserstein_distance(a_s, b_s), rel=1e-12, abs=1e-15
        )


def test_merge_source_runs_as_plain_python() -> None:
    """The kernel's source, run uncompiled, gives the compiled results."""
    from keeneye.stats import _compiled

    rng = np.random.default_rng(8)
    a = _kernels.with_sentinel(np.sort(rng.poisson(3.0, 300).astype(float)))
    b = _kernels.with_sentinel(np.sort(rng.normal(3.0, 2.0, 200)))
    merged = _kernels.merge_statistics(a, b)
    assert merged is not None
    starts = np.zeros(_compiled.STREAMS, dtype=np.uint64)
    steps = np.zeros(_compiled.STREAMS, dtype=np.int64)
    steps[-1] = 300 + 200 - 1  # one stream over everything
    out = np.empty(3)
    _compiled._merge_statistics_python(a, b, 300, 200, 1.0, starts, starts, steps, out)
    assert (out[0], out[1]) == (merged.high, merged.low)
    assert out[2] / (300 * 200) == pytest.approx(merged.wasserstein_scaled, rel=1e-13)


def test_sentinel_is_reused_or_added() -> None:
    values = _kernels.sort_with_sentinel(np.array([2.0, 1.0]))
    assert _kernels.with_sentinel(values).base is values.base or (
        _kernels.with_sentinel(values) is values.base
    )
    plain = np.array([1.0, 2.0])
    padded = _kernels.with_sentinel(plain)
    assert padded.tolist() == [1.0, 2.0, np.inf] and plain.tolist() == [1.0, 2.0]
    assert _kernels.with_sentinel(plain[:1]).tolist() == [1.0, np.inf]
    # The front of a larger reused buffer: no copy for a merge run at once, a copy to keep.
    buffer = np.zeros(10)
    front = _kernels.sort_with_sentinel(np.array([3.0, 1.0, 2.0]), buffer)
    at_once = _kernels.with_sentinel(front, in_buffer=True)
    assert at_once.tolist() == [1.0, 2.0, 3.0, np.inf] and np.shares_memory(at_once, buffer)
    kept = _kernels.with_sentinel(front)
    assert kept.tolist() == [1.0, 2.0, 3.0, np.inf] and not np.shares_memory(kept, buffer)


def test_merge_of_huge_values_is_finite_and_exact() -> None:
    rng = np.random.default_rng(4)
    a = np.sort(rng.uniform(-1.5, 1.5, 40_000) * 1e308)
    b = np.sort(rng.uniform(-1.0, 1.7, 30_000) * 1e308)
    fast = compare(prepare(a), b)
    with _kernels.numpy_only():
        slow = compare(prepare(a), b)
    assert fast.ks == slow.ks
    assert math.isfinite(fast.wasserstein_scaled)
    assert fast.wasserstein_scaled * fast.scale == pytest.approx(
        slow.wasserstein_scaled * slow.scale, rel=1e-12
    )


def test_environment_variable_disables_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _kernels.kernel_available()
    monkeypatch.setenv(_kernels.DISABLE_ENV, "1")
    assert not _kernels.kernel_available()
    assert _kernels.count_at_or_below_compiled(np.arange(3.0), np.arange(2.0)) is None
    assert _kernels.merge_statistics(np.arange(3.0), np.arange(2.0)) is None


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


def test_preload_loads_the_kernels_on_a_background_thread() -> None:
    _kernels.preload()
    thread = _kernels._preloading
    if thread is not None:  # None when an earlier test loaded them already
        thread.join(timeout=120)
        assert not thread.is_alive()
    assert _kernels._module is not None


def test_sorted_moments_source_runs_as_plain_python() -> None:
    """The one-pass moments kernel, run uncompiled, gives the compiled results and numpy's."""
    from keeneye.stats import _compiled

    rng = np.random.default_rng(9)
    ordered = np.sort(rng.poisson(3.0, 2_003).astype(float) * 0.5 + 1e6)
    out = np.empty(3)
    _compiled._sorted_moments_python(ordered, out)
    compiled = _kernels.sorted_moments_compiled(ordered)
    assert compiled is not None
    assert (float(out[0]), float(out[1]), int(out[2]) + 1) == compiled
    assert out[0] == pytest.approx(ordered.mean(), rel=1e-15)
    assert out[1] == pytest.approx(ordered.var() * ordered.size, rel=1e-12)
    assert int(out[2]) + 1 == np.unique(ordered).size
