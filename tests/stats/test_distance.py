"""Distances: Wasserstein against scipy; binned distances against scipy/hand formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from keeneye.errors import InputError
from keeneye.stats import (
    hellinger,
    hellinger_categorical,
    jensen_shannon,
    jensen_shannon_categorical,
    kl_divergence,
    kl_divergence_categorical,
    psi,
    psi_categorical,
    wasserstein,
)
from keeneye.stats.distance import EPSILON

REL = 1e-9


@pytest.mark.parametrize(("n1", "n2"), [(5, 5), (7, 300), (10_000, 20_000), (1_000_000, 1_000_000)])
def test_wasserstein_equals_scipy(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1 + n2)
    a = rng.normal(2.0, 3.0, n1)
    b = np.round(rng.normal(2.5, 3.0, n2), 1)  # ties on one side
    raw = wasserstein(a, b, normed=False)
    expected = sps.wasserstein_distance(a, b)
    assert raw.statistic == pytest.approx(expected, rel=REL)
    normed = wasserstein(a, b)
    assert normed.statistic == pytest.approx(expected / np.std(a), rel=REL)
    assert normed.details["raw"] == raw.statistic


def test_normed_wasserstein_is_shift_in_std_units() -> None:
    a = np.random.default_rng(1).normal(10.0, 4.0, 50_000)
    assert wasserstein(a, a + 2.0).statistic == pytest.approx(2.0 / np.std(a), rel=1e-9)


def test_normed_wasserstein_of_constant_reference_is_an_error() -> None:
    with pytest.raises(InputError, match=r"constant.*normed=False"):
        wasserstein([1.0, 1.0], [1.0, 2.0])
    assert wasserstein([1.0, 1.0], [1.0, 2.0], normed=False).statistic == pytest.approx(0.5)


def _binned(a: np.ndarray, b: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Independent binning: np.histogram on reference-decile edges extended to ±inf."""
    inner = np.unique(np.quantile(a, np.arange(1, bins) / bins))
    # np.histogram bins are [e_i, e_{i+1}) but ours are (e_i, e_{i+1}]: compare via negation
    edges = np.concatenate(([-np.inf], -inner[::-1], [np.inf]))
    p = np.histogram(-a, edges)[0][::-1].astype(float)
    q = np.histogram(-b, edges)[0][::-1].astype(float)
    return p, q


def _smooth(c: np.ndarray) -> np.ndarray:
    p = np.maximum(c / c.sum(), EPSILON)
    return p / p.sum()


@pytest.mark.parametrize("seed", range(3))
def test_binned_distances_equal_reference_formulas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.gamma(2.0, size=5_000)
    b = np.r_[rng.gamma(2.3, size=4_000), np.full(100, 50.0)]
    p, q = _binned(a, b)
    ps, qs = _smooth(p), _smooth(q)
    assert jensen_shannon(a, b).statistic == pytest.approx(jensenshannon(p, q, base=2), rel=REL)
    assert psi(a, b).statistic == pytest.approx(np.sum((qs - ps) * np.log(qs / ps)), rel=REL)
    assert kl_divergence(a, b).statistic == pytest.approx(sps.entropy(qs, ps), rel=REL)
    pn, qn = p / p.sum(), q / q.sum()
    expected_h = np.sqrt(0.5 * np.sum((np.sqrt(pn) - np.sqrt(qn)) ** 2))
    assert hellinger(a, b).statistic == pytest.approx(expected_h, rel=REL)
    assert psi(a, b).details["bins"] == 10


def test_empty_bins_are_smoothed_not_infinite() -> None:
    a = np.arange(100.0)
    b = np.full(50, 1_000.0)  # every current value in the top bin
    for result in (psi(a, b), kl_divergence(a, b)):
        assert np.isfinite(result.statistic)
        assert result.details["epsilon"] == EPSILON
    assert jensen_shannon(a, b).statistic <= 1.0


def test_ties_merge_bins() -> None:
    a = np.r_[np.zeros(900), np.arange(100.0)]
    assert psi(a, a).details["bins"] < 10
    assert psi(a, a).statistic == 0.0


def test_categorical_distances() -> None:
    ref = ["a"] * 60 + ["b"] * 40
    cur = ["a"] * 30 + ["b"] * 50 + ["new"] * 20
    p = np.array([60, 40, 0]) / 100
    q = np.array([30, 50, 20]) / 100
    ps, qs = _smooth(p), _smooth(q)
    assert jensen_shannon_categorical(ref, cur).statistic == pytest.approx(
        jensenshannon(p, q, base=2), rel=REL
    )
    assert psi_categorical(ref, cur).statistic == pytest.approx(
        np.sum((qs - ps) * np.log(qs / ps)), rel=REL
    )
    assert kl_divergence_categorical(ref, cur).statistic == pytest.approx(
        sps.entropy(qs, ps), rel=REL
    )
    assert hellinger_categorical(ref, cur).statistic == pytest.approx(
        np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)), rel=REL
    )
    assert psi_categorical(ref, cur).details["new_categories"] == {"new": 20}


def test_distances_are_zero_for_identical_samples_and_symmetric_where_defined() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=300), rng.normal(0.3, size=400)
    assert jensen_shannon(a, a).statistic == 0.0
    assert hellinger(a, a).statistic == 0.0
    ab = jensen_shannon_categorical(["x", "y", "y"], ["y", "z"]).statistic
    ba = jensen_shannon_categorical(["y", "z"], ["x", "y", "y"]).statistic
    assert ab == pytest.approx(ba, rel=1e-12)
    assert wasserstein(a, b, normed=False).statistic == pytest.approx(
        wasserstein(b, a, normed=False).statistic, rel=1e-12
    )


finite = st.floats(-1e3, 1e3, allow_nan=False) | st.integers(-3, 3).map(float)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    st.lists(finite, min_size=1, max_size=50),
    st.lists(finite, min_size=1, max_size=50),
    st.sampled_from([0.0, 1e6]),
)
def test_wasserstein_properties(a: list[float], b: list[float], offset: float) -> None:
    x, y = np.array(a) + offset, np.array(b) + offset
    raw = wasserstein(x, y, normed=False).statistic
    expected = sps.wasserstein_distance(x, y)
    # W1 is a sum of differences: when the true value is 0 (identical samples) what is left
    # is rounding at the scale of the data, hence the absolute tolerance.
    scale = 1e-12 * (1.0 + float(np.abs(np.r_[x, y]).max()))
    assert raw == pytest.approx(expected, rel=1e-9, abs=scale)
    swapped = wasserstein(y[::-1], x, normed=False).statistic
    assert raw == pytest.approx(swapped, rel=1e-9, abs=scale)
