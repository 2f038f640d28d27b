"""KS equals scipy.stats.ks_2samp(method="auto") to 1e-9 relative, exact and asymptotic."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from keeneye.errors import InputError
from keeneye.stats import ks
from keeneye.stats._ecdf import compare_sorted
from keeneye.stats.ks import ks_p_values

REL = 1e-9


def assert_matches_scipy(a: np.ndarray, b: np.ndarray) -> None:
    ours = ks(a, b)
    ref = sps.ks_2samp(a, b, method="auto")
    assert ours.statistic == pytest.approx(float(ref.statistic), rel=REL, abs=0)
    assert ours.p_value == pytest.approx(float(ref.pvalue), rel=REL, abs=1e-300)


@pytest.mark.parametrize("seed", range(10))
def test_n5_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=5), rng.normal(0.8, size=5)
    assert_matches_scipy(a, b)
    assert ks(a, b).details["exact"] is True


@pytest.mark.parametrize(("n1", "n2"), [(5, 7), (13, 40), (300, 451), (2000, 3000), (10_000, 37)])
def test_unequal_sizes_exact(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1 * n2)
    assert_matches_scipy(rng.normal(size=n1), rng.normal(0.1, 1.2, size=n2))


@pytest.mark.parametrize(("n1", "n2"), [(40, 60), (5_000, 7_000), (50_000, 30_000)])
def test_heavy_ties(n1: int, n2: int) -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 4, n1).astype(float)
    b = rng.integers(0, 5, n2).astype(float)
    assert_matches_scipy(a, b)
    # all values tied except one
    assert_matches_scipy(np.r_[np.zeros(n1 - 1), 1.0], np.zeros(n2))


def test_switches_to_asymptotic_above_10000() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=10_001), rng.normal(0.03, size=9_000)
    assert_matches_scipy(a, b)
    assert ks(a, b).details["exact"] is False


def test_one_million_rows() -> None:
    rng = np.random.default_rng(11)
    a = rng.normal(size=1_000_000)
    b = rng.normal(0.004, 1.0, size=1_000_000)
    assert_matches_scipy(a, b)


def test_vectorised_p_values_equal_scipy_per_column() -> None:
    rng = np.random.default_rng(5)
    sizes = [(30, 40), (20_000, 15_000)]
    pairs = [(rng.normal(size=n), rng.normal(0.05, size=m)) for n, m in sizes]
    d = [compare_sorted(np.sort(a), np.sort(b)).ks for a, b in pairs]
    ds, ps, exact = ks_p_values(d, [a.size for a, _ in pairs], [b.size for _, b in pairs])
    for (a, b), d_i, p_i in zip(pairs, ds, ps, strict=True):
        ref = sps.ks_2samp(a, b)
        assert d_i == pytest.approx(ref.statistic, rel=REL)
        assert p_i == pytest.approx(ref.pvalue, rel=REL)
    assert exact.tolist() == [True, False]


def test_non_finite_values_are_dropped_and_counted() -> None:
    a = np.array([1.0, 2.0, np.nan, np.inf, 3.0, 4.0])
    b = np.array([2.5, -np.inf, 3.5, 4.5, 5.5])
    result = ks(a, b)
    ref = sps.ks_2samp([1.0, 2.0, 3.0, 4.0], [2.5, 3.5, 4.5, 5.5])
    assert result.statistic == ref.statistic
    assert result.details["dropped_reference"] == {"nan": 1, "pos_inf": 1}
    assert result.details["dropped_current"] == {"neg_inf": 1}
    assert (result.n_reference, result.n_current) == (4, 4)


def test_empty_side_raises_a_clear_error() -> None:
    with pytest.raises(InputError, match="current sample has no finite values"):
        ks([1.0, 2.0], [np.nan])
    with pytest.raises(InputError, match="must be 1-D"):
        ks(np.ones((2, 2)), [1.0])
    with pytest.raises(InputError, match="not numeric"):
        ks(np.array(["a", "b"]), [1.0])


samples = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False) | st.integers(-3, 3).map(float),
    min_size=1,
    max_size=60,
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(samples, samples)
def test_properties(a: list[float], b: list[float]) -> None:
    forward = ks(a, b)
    backward = ks(b, a)
    with warnings.catch_warnings():
        # scipy warns when its exact recursion overflows and it falls back to asymptotic;
        # keeneye falls back the same way, silently, and says so in details["exact"].
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = sps.ks_2samp(a, b)
    assert 0.0 <= forward.p_value <= 1.0  # type: ignore[operator]
    assert forward.statistic == backward.statistic  # symmetric
    assert forward.p_value == backward.p_value
    assert forward.statistic == pytest.approx(ref.statistic, rel=REL)
    assert forward.p_value == pytest.approx(ref.pvalue, rel=REL, abs=1e-300)
    shuffled = ks(list(reversed(a)), b[1:] + b[:1])  # row order does not matter
    assert (shuffled.statistic, shuffled.p_value) == (forward.statistic, forward.p_value)


@pytest.mark.parametrize(
    ("n1", "n2", "seed"), [(5, 5, 0), (7, 13, 1), (40, 25, 2), (300, 200, 3), (1000, 999, 4)]
)
def test_public_api_fallback_gives_the_private_functions_exact_p_value(
    n1: int, n2: int, seed: int
) -> None:
    # Used only if a scipy release removes its private exact KS function.
    from keeneye.stats.ks import _exact_p_value, _exact_via_public_api

    rng = np.random.default_rng(seed)
    d = ks(rng.normal(size=n1), rng.normal(0.3, 1, n2)).statistic
    private = _exact_p_value(n1, n2, d)
    public = _exact_via_public_api(n1, n2, d)
    assert public[0] == private[0]
    assert public[1] == pytest.approx(private[1], rel=1e-12)
    assert public[2] == pytest.approx(private[2], rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_chunked_lookup_counts_equal_searchsorted(seed: int) -> None:
    from keeneye.stats._ecdf import CHUNKED_LOOKUP_FROM, count_at_or_below

    rng = np.random.default_rng(seed)
    reference = np.sort(rng.normal(size=50_000).round(2))  # heavy ties
    keys = np.unique(rng.normal(0.5, 2, CHUNKED_LOOKUP_FROM * 3).round(4))
    assert keys.size >= CHUNKED_LOOKUP_FROM
    expected = np.searchsorted(reference, keys, side="right")
    assert np.array_equal(count_at_or_below(reference, keys), expected)
