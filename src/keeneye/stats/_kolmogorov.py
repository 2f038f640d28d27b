"""``scipy.stats.kstwo.sf`` with its slowest branch vectorised.

For n > 140 and 2.2 ≤ n·d² < 370 scipy evaluates the two-sided KS survival function as
``2 * scipy.special.smirnov(n, d)``, the Birnbaum–Tingey sum over up to n(1−d) terms, each
computed in double-double arithmetic: about a second per call at n = 500,000. That region is
exactly where real, moderate drift lands at large n, so here the same sum is evaluated with
numpy in log space:

    smirnov(n, d) = d · Σ_{j=0}^{⌊n(1−d)⌋} C(n, j) (d + j/n)^(j−1) (1 − d − j/n)^(n−j)

with log C(n, j) from Stirling's series (exact to ~1e-16 absolute for the arguments used)
and the powers written as j·log1p(nd/j) + (n−j)·log1p(−nd/(n−j)) so that nothing cancels
catastrophically. Against scipy the relative difference is below 1e-12 (tests check 1e-9);
p-values that underflow into subnormal doubles (< 1e-290) are delegated to scipy, as are all
other branches and n above scipy's own exact limit (1,000,000, where it approximates).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: scipy (cephes/xsf) approximates smirnov() above this n; we then defer to it.
SMIRNOV_MAX_COMPUTE_N = 1_000_000
#: Below this n scipy is fast enough; the vectorised sum only pays off for large n.
FAST_MIN_N = 2_000
_MINLOG = math.log(np.finfo(np.float64).tiny)  # cephes: sf underflows when -2nd² < MINLOG
_SMALL_STIRLING = 30  # below this, log-factorial corrections come from gammaln directly


def _stirling_correction(m: FloatArray) -> FloatArray:
    """δ(m) = ln m! − (m ln m − m + ½ ln 2πm), for m ≥ 1."""
    inv = 1.0 / m
    inv2 = inv * inv
    out = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 / 1188))))
    small = m < _SMALL_STIRLING
    if small.any():
        ms = m[small]
        from scipy import special

        out[small] = special.gammaln(ms + 1) - (ms * np.log(ms) - ms + 0.5 * np.log(2 * np.pi * ms))
    return out


def _log_terms(n: int, d: float, j: FloatArray) -> FloatArray:
    """ln of C(n, j) (d + j/n)^(j−1) (1 − d − j/n)^(n−j) for 1 ≤ j < n(1−d)."""
    m = n - j
    nd = n * d
    terms = j * np.log1p(nd / j)
    terms += m * np.log1p(-nd / m)
    terms -= np.log(nd + j)
    terms -= 0.5 * (np.log(j) + np.log(m))
    terms -= _stirling_correction(j)
    terms -= _stirling_correction(m)
    constant = 1.5 * math.log(n) - 0.5 * math.log(2 * math.pi)
    constant += float(_stirling_correction(np.array([float(n)]))[0])
    return terms + constant


def _significant_range(n: int, d: float, last: int) -> FloatArray:
    """The j in [1, last] whose terms matter (within e^-60 of the largest), as floats.

    The terms are unimodal in j, so a coarse scan locates the peak region; every term outside
    it is below e^-60 of the peak and their sum (at most n of them) below 1e-20 relative.
    """
    step = 64
    if last < 16 * step:
        return np.arange(1.0, last + 1.0)
    coarse = np.arange(1.0, last + 1.0, step)
    logs = _log_terms(n, d, coarse)
    keep = np.flatnonzero(logs > logs.max() - 60.0)
    lo = max(1.0, coarse[keep[0]] - step)
    hi = min(float(last), coarse[keep[-1]] + step)
    return np.arange(lo, hi + 1.0)


def smirnov_sf(n: int, d: float) -> float:
    """P(D⁺ₙ ≥ d) for FAST_MIN_N ≤ n ≤ SMIRNOV_MAX_COMPUTE_N and 1/n < d < 1 − 1/n."""
    if -2.0 * n * d * d < _MINLOG:
        return 0.0
    last = math.floor(n * (1.0 - d))
    if n * (1.0 - d) == last:
        last -= 1  # that term is 0^(n−j) = 0
    j = _significant_range(n, d, last)
    logs = _log_terms(n, d, j)
    first = n * math.log1p(-d) - math.log(d)  # the j = 0 term: (1 − d)^n / d
    top = max(float(logs.max()), first)
    total = float(np.sum(np.exp(logs - top))) + math.exp(first - top)
    return d * math.exp(top) * total


def kstwo_sf(d: ArrayLike, n: ArrayLike) -> FloatArray:
    """``scipy.stats.kstwo.sf(d, n)`` for arrays of statistics and integer-valued sizes.

    >>> from scipy import stats
    >>> bool(abs(kstwo_sf([0.01], [100_000])[0] / stats.kstwo.sf(0.01, 100_000) - 1) < 1e-9)
    True
    """
    d = np.atleast_1d(np.asarray(d, dtype=np.float64))
    n = np.atleast_1d(np.asarray(n, dtype=np.float64))
    out = np.empty(d.shape)
    t = n * d
    nd2 = t * d
    fast = (
        (n >= FAST_MIN_N)
        & (n <= SMIRNOV_MAX_COMPUTE_N)
        & (d < 0.5)
        & (t > 1.0)
        & (t < n - 1.0)
        & (nd2 >= 2.2)
        & (nd2 < 333.0)  # beyond, p < 1e-290: subnormal territory, leave it to scipy
    )
    for i in np.flatnonzero(fast):
        out[i] = min(max(2.0 * smirnov_sf(int(n[i]), float(d[i])), 0.0), 1.0)
    slow = ~fast
    if slow.any():
        from scipy import stats

        out[slow] = stats.kstwo.sf(d[slow], n[slow])
    return out
