"""The vectorised kstwo.sf branch equals scipy's; every other branch is scipy's own."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from keeneye.stats._kolmogorov import FAST_MIN_N, kstwo_sf


@pytest.mark.parametrize("n", [FAST_MIN_N, 7_919, 40_000, 150_000])
def test_fast_branch_equals_scipy(n: int) -> None:
    # n·d² spans the whole vectorised region [2.2, 333), including both ends.
    d = np.sqrt(np.array([2.2, 3.0, 10.0, 55.5, 200.0, 332.9]) / n)
    expected = sps.kstwo.sf(d, n)
    np.testing.assert_allclose(kstwo_sf(d, np.full(d.size, n)), expected, rtol=1e-9, atol=0)


def test_other_branches_are_scipys() -> None:
    n = np.array([10, 141, 5_000, 5_000, 5_000, 2_000_000, 600])
    d = np.array([0.3, 0.05, 0.001, 0.6, 0.3, 0.002, 1 / 1200])
    np.testing.assert_array_equal(kstwo_sf(d, n), sps.kstwo.sf(d, n))
