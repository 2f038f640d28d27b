"""Any finite float works, up to ±1.8e308: no overflow warning (an error here), finite answers."""

from __future__ import annotations

import json
import math
import statistics
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from keeneye.stats import ReferenceProfile, detect_drift, ks, summarize, wasserstein

_finite = st.floats(allow_nan=False, allow_infinity=False)
_sample = st.lists(_finite, min_size=1, max_size=40)
_SCALE = 2.0**-16  # exact; lets scipy (which overflows itself) compute the same quantities


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_sample)
def test_summaries_of_any_finite_floats_are_finite_and_ordered(values: list[float]) -> None:
    s = summarize(values, "numeric")
    assert s.min is not None and s.max is not None and s.mean is not None
    assert s.min <= s.mean <= s.max
    quantiles = list(s.quantiles.values())
    assert quantiles == sorted(quantiles) and s.min <= quantiles[0] and quantiles[-1] <= s.max
    # The statistics module works in exact fractions: an independent reference.
    # Rounding of a two-pass std is relative to the magnitude, not to the spread.
    tolerance = 1e-12 * max(abs(v) for v in values)
    assert s.mean == pytest.approx(statistics.mean(values), rel=1e-9, abs=tolerance)
    if len(values) > 1:
        assert s.std is not None
        try:
            expected = statistics.stdev(values)
        except OverflowError:  # the true std exceeds the largest float
            expected = math.inf
        assert s.std == pytest.approx(expected, rel=1e-9, abs=tolerance)
    json.dumps(s.to_dict(), allow_nan=False)


def test_the_reported_overflow_case() -> None:
    s = summarize([1e250, 2e250], "numeric")
    assert s.mean == 1.5e250
    assert s.std == pytest.approx(math.sqrt(0.5) * 1e250, rel=1e-15)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_sample, _sample)
def test_ks_and_wasserstein_of_any_finite_floats_equal_scipy(
    reference: list[float], current: list[float]
) -> None:
    a, b = np.asarray(reference), np.asarray(current)
    with warnings.catch_warnings():  # scipy says when its exact recursion falls back
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = stats.ks_2samp(a, b, method="auto")
    r = ks(a, b)
    assert r.statistic == expected.statistic
    assert r.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    raw = wasserstein(a, b, normed=False).statistic
    # Everything in units of 2**16 (exact), where scipy does not overflow.
    a_s, b_s = a * _SCALE, b * _SCALE
    expected_s = float(stats.wasserstein_distance(a_s, b_s))
    if math.isinf(raw):  # W itself beyond the largest float
        assert expected_s / _SCALE == math.inf
    else:
        spread = max(float(np.ptp(a_s)), float(np.ptp(b_s)))
        assert raw * _SCALE == pytest.approx(expected_s, rel=1e-9, abs=1e-12 * spread)
    if np.unique(a).size > 1:
        normed = wasserstein(a, b).statistic
        assert normed >= 0.0  # not NaN; inf when the reference std is tiny against W


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_sample, _sample, st.sampled_from(["auto", "psi", "jensen_shannon", "cramer_von_mises"]))
def test_the_engine_gives_a_verdict_or_a_reason_for_any_finite_floats(
    reference: list[float], current: list[float], method: str
) -> None:
    profile = ReferenceProfile.fit({"x": np.asarray(reference)}, {"x": "numeric"})
    result = detect_drift(profile, {"x": np.asarray(current)}, methods={"x": method})["x"]
    if result.drifted is None:
        assert result.reason is not None and result.reason.startswith("not tested: ")
    else:
        for number in (result.statistic, result.p_value, result.effect_size):
            assert number is None or math.isfinite(number)
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_huge_window_against_ordinary_data_keeps_ks_exact() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(size=500)
    current = np.r_[rng.normal(size=300), [1.7e308, -1.7e308]]
    profile = ReferenceProfile.fit({"x": reference}, {"x": "numeric"})
    result = detect_drift(profile, {"x": current})["x"]
    expected = stats.ks_2samp(reference, current)
    assert result.statistic == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    raw = stats.wasserstein_distance(reference * _SCALE, current * _SCALE) / _SCALE
    assert result.details["wasserstein_raw"] == pytest.approx(raw, rel=1e-9)
    assert result.effect_size == pytest.approx(raw / np.std(reference), rel=1e-9)
