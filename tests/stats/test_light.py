"""The scipy-free small-sample functions equal scipy's, and a small comparison needs no scipy."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance
from scipy.stats._stats_py import _attempt_exact_2kssamp

from keeneye.stats import _light


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 9, 10, 49, 50, 199, 200, 201, 1_000])
def test_chi2_sf_equals_scipy(dof: int) -> None:
    for statistic in (1e-6, 0.01, 0.5, 1.0, dof * 0.3, dof, dof + 3 * math.sqrt(2 * dof), 40.0):
        for x in (statistic, statistic * 7.0, statistic * 40.0):
            expected = float(stats.chi2.sf(x, dof))
            assert _light.chi2_sf(x, dof) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_chi2_sf_edges() -> None:
    assert _light.chi2_sf(0.0, 3) == 1.0
    assert _light.chi2_sf(math.inf, 3) == 0.0
    # Far tails (below CHI2_MIN_P) are scipy's own values, subnormals included.
    assert _light.chi2_sf(1_500.0, 1) == float(stats.chi2.sf(1_500.0, 1))


def test_exact_ks_p_values_equal_scipys() -> None:
    rng = np.random.default_rng(11)
    sizes = [(5, 5), (7, 3), (40, 40), (33, 120), (150, 260), (500, 500), (9, 600)]
    sizes += [tuple(int(n) for n in rng.integers(1, 200, 2)) for _ in range(40)]
    for n1, n2 in sizes:
        g = math.gcd(n1, n2)
        lcm = (n1 // g) * n2
        for h in {1, 2, lcm // 7 + 1, lcm // 3 + 1, lcm // 2, lcm}:
            d = h / lcm
            expected = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
            ok, d_out, p = _light.exact_ks_p_value(n1, n2, d)
            assert ok == expected[0]
            assert d_out == expected[1]
            if ok:
                assert p == pytest.approx(expected[2], rel=1e-12, abs=1e-300)


def test_exact_ks_matches_ks_2samp_on_data() -> None:
    from keeneye.stats import ks

    rng = np.random.default_rng(2)
    for n1, n2 in ((20, 20), (37, 55), (300, 290)):
        a, b = rng.normal(0, 1, n1), rng.normal(0.4, 1, n2)
        expected = stats.ks_2samp(a, b, method="auto")
        result = ks(a, b)
        assert result.statistic == pytest.approx(expected.statistic, abs=1e-15)
        assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_jensen_shannon_equals_scipy() -> None:
    rng = np.random.default_rng(5)
    for k in (2, 3, 10, 60):
        p = rng.integers(0, 50, k).astype(float)
        q = rng.integers(0, 50, k).astype(float)
        p[0], q[-1] = 0.0, 0.0  # empty categories on either side
        p[1] += 1.0
        q[0] += 1.0
        expected = float(distance.jensenshannon(p, q, base=2.0))
        assert _light.jensen_shannon(p, q) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_a_small_comparison_does_not_import_scipy_or_numba() -> None:
    """``keeneye compare`` of small files starts fast: scipy.stats alone costs most of a
    second of CPU, numba a few tenths."""
    code = (
        "import sys, keeneye\n"
        "r = keeneye.compare({'x': [1.0, 2.0, 3.0, 4.0, 5.0] * 40, 'c': ['a', 'b'] * 100},\n"
        "                    {'x': [1.5, 2.5, 3.5, 4.5, 9.0] * 40, 'c': ['a', 'a'] * 100})\n"
        "assert r['x'].p_value is not None and r['c'].p_value is not None\n"
        "print(sorted(m for m in ('scipy', 'numba') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
