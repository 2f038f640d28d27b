"""Anderson–Darling and Cramér–von Mises equal scipy (including scipy's p-value clipping)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats as sps

from keeneye.stats import anderson_darling, cramer_von_mises

REL = 1e-9


def scipy_ad(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = sps.anderson_ksamp([a, b], variant="midrank")
    return float(result.statistic), float(result.pvalue)


@pytest.mark.parametrize(("n1", "n2", "shift"), [(5, 5, 0.0), (40, 60, 0.3), (2000, 3000, 0.05)])
def test_anderson_darling_equals_scipy(n1: int, n2: int, shift: float) -> None:
    rng = np.random.default_rng(n1)
    a, b = rng.normal(size=n1), rng.normal(shift, size=n2)
    result = anderson_darling(a, b)
    statistic, p = scipy_ad(a, b)
    assert result.statistic == pytest.approx(statistic, rel=REL)
    assert result.p_value == pytest.approx(p, rel=REL)


def test_anderson_darling_reports_scipys_clipping() -> None:
    rng = np.random.default_rng(0)
    floor = anderson_darling(rng.normal(size=200), rng.normal(2.0, size=200))
    assert (floor.p_value, floor.details["p_value_bound"]) == (0.001, "floor")
    same = rng.normal(size=200)
    cap = anderson_darling(same, same)
    assert (cap.p_value, cap.details["p_value_bound"]) == (0.25, "cap")


def test_anderson_darling_heavy_ties_and_single_value() -> None:
    a = np.r_[np.zeros(30), np.ones(20)]
    b = np.r_[np.zeros(10), np.ones(30)]
    result = anderson_darling(a, b)
    assert result.statistic == pytest.approx(scipy_ad(a, b)[0], rel=REL)
    assert anderson_darling([1.0, 1.0], [1.0]).p_value == 1.0


@pytest.mark.parametrize(("n1", "n2"), [(5, 5), (12, 20), (21, 30), (3000, 1000)])
def test_cramer_von_mises_equals_scipy(n1: int, n2: int) -> None:
    rng = np.random.default_rng(n1 * 7 + n2)
    a, b = rng.normal(size=n1), rng.normal(0.4, size=n2)
    result = cramer_von_mises(a, b)
    expected = sps.cramervonmises_2samp(a, b)
    assert result.statistic == pytest.approx(expected.statistic, rel=REL)
    assert result.p_value == pytest.approx(expected.pvalue, rel=REL)
    assert result.details["exact"] is (max(n1, n2) <= 20)
