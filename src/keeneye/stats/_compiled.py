"""The numba-compiled kernels: imported only by :mod:`keeneye.stats._kernels`, and only when a
comparison is large enough to use them (importing numba costs a few tenths of a second).

Everything here is compiled with ``nogil`` (columns run on several threads at once) and cached
on disk (``cache=True``: a process loads the machine code instead of compiling it; where no
cache location is writable each process compiles once instead).

:func:`merge_statistics` is the drift engine's hot loop: one merge of the sorted reference and
the sorted window that yields scipy's KS statistic and the Wasserstein-1 distance at once.
The merge is split by value into :data:`STREAMS` independent stretches that one loop advances
together: a single merge waits on each load before choosing the next element (a chain of about
a dozen cycles per element); four independent chains keep the core busy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from keeneye.stats._kernels import _merge_counts_python

#: Independent stretches of one merge advanced together (the unrolled loop below has four).
STREAMS = 4
#: Terms of the Wasserstein sum added into a partial sum before it joins the total: the
#: rounding error of the sum then grows with the block size plus the number of blocks, not
#: with the number of terms.
_BLOCK = 1024


def _cached(function: Callable[..., Any], **options: Any) -> Any:
    try:  # compiled once per installation: the cache sits next to the source or in the user's
        return numba.njit(nogil=True, boundscheck=False, cache=True, **options)(function)
    except RuntimeError:  # pragma: no cover - no writable cache location: compile per process
        return numba.njit(nogil=True, boundscheck=False, cache=False, **options)(function)


merge_counts = _cached(_merge_counts_python)


def _step_python(
    a: Any,
    b: Any,
    i: Any,
    j: Any,
    ai: float,
    bj: float,
    v: Any,
    x: float,
    part: float,
    high: Any,
    high_d: float,
    low: Any,
    low_d: float,
    n1: int,
    n2: int,
    unit: float,
) -> tuple[Any, Any, float, float, Any, float, float, Any, float, Any, float]:
    """Consume the smaller head of ``a[i:]`` / ``b[j:]`` (``a`` on ties) and account for it.

    ``ai`` and ``bj`` are ``a[i]`` and ``b[j]``, carried from step to step so that each step
    loads two values, not four.

    ``v = i·n2 − j·n1`` is n1·n2 times F_a − F_b after the consumed values (exact integers).
    ``x`` is the value just consumed, ``y`` the next one; the interval [x, y) adds
    |v|·(y − x) to the Wasserstein sum (in units of ``1/unit``). Where ``y`` differs from ``x``
    all copies of ``x`` are consumed, so F_a − F_b there is one of the values scipy's
    ``ks_2samp`` computes: the largest and smallest ``v`` are kept with that float, computed
    as scipy does (``i/n1 − j/n2``); equal ``v`` at several points keep the larger (smaller)
    float, so the extremes are scipy's to the bit.
    """
    t = np.uint64(ai <= bj)
    i += t
    j += np.uint64(1) - t
    v += np.int64(t) * (n1 + n2) - n1
    ai = a[i]
    bj = b[j]
    y = min(ai, bj)
    part += abs(v) * (y * unit - x * unit)
    if y != x:
        if v >= high:
            d = np.int64(i) / n1 - np.int64(j) / n2
            if v > high or d > high_d:
                high_d = d
            high = v
        if v <= low:
            d = np.int64(i) / n1 - np.int64(j) / n2
            if v < low or d < low_d:
                low_d = d
            low = v
    return i, j, ai, bj, v, y, part, high, high_d, low, low_d


_step = _cached(_step_python, inline="always")


def _merge_statistics_python(
    a: Any,
    b: Any,
    n1: int,
    n2: int,
    unit: float,
    starts_i: Any,
    starts_j: Any,
    steps: Any,
    out: Any,
) -> None:
    """KS extremes and the Wasserstein sum of sorted ``a[:n1]`` and ``b[:n2]``.

    ``a[n1]`` and ``b[n2]`` must be ``+inf`` (sentinels: the loop never checks bounds).
    Stream k starts at ``(starts_i[k], starts_j[k])`` — where a value boundary splits both
    arrays, ties kept together — and runs ``steps[k]`` steps; the last stream stops one step
    before the end (the final point, where both ECDFs are 1, is where the extremes start).
    ``out`` receives the largest and the smallest F_a − F_b (as scipy computes them) and
    Σ |i·n2 − j·n1|·Δx (divide by n1·n2 for W₁ in units of ``1/unit``).
    """
    i0, j0, i1, j1 = starts_i[0], starts_j[0], starts_i[1], starts_j[1]
    i2, j2, i3, j3 = starts_i[2], starts_j[2], starts_i[3], starts_j[3]
    v0 = np.int64(i0) * n2 - np.int64(j0) * n1
    v1 = np.int64(i1) * n2 - np.int64(j1) * n1
    v2 = np.int64(i2) * n2 - np.int64(j2) * n1
    v3 = np.int64(i3) * n2 - np.int64(j3) * n1
    a0, b0, a1, b1 = a[i0], b[j0], a[i1], b[j1]
    a2, b2, a3, b3 = a[i2], b[j2], a[i3], b[j3]
    x0, x1, x2, x3 = min(a0, b0), min(a1, b1), min(a2, b2), min(a3, b3)
    h0, hd0, l0, ld0 = 0, 0.0, 0, 0.0
    h1, hd1, l1, ld1 = 0, 0.0, 0, 0.0
    h2, hd2, l2, ld2 = 0, 0.0, 0, 0.0
    h3, hd3, l3, ld3 = 0, 0.0, 0, 0.0
    s0, s1, s2, s3 = 0.0, 0.0, 0.0, 0.0
    common = min(min(steps[0], steps[1]), min(steps[2], steps[3]))
    done = 0
    while done < common:
        block = min(_BLOCK, common - done)
        p0, p1, p2, p3 = 0.0, 0.0, 0.0, 0.0
        for _ in range(block):
            i0, j0, a0, b0, v0, x0, p0, h0, hd0, l0, ld0 = _step(
                a, b, i0, j0, a0, b0, v0, x0, p0, h0, hd0, l0, ld0, n1, n2, unit
            )
            i1, j1, a1, b1, v1, x1, p1, h1, hd1, l1, ld1 = _step(
                a, b, i1, j1, a1, b1, v1, x1, p1, h1, hd1, l1, ld1, n1, n2, unit
            )
            i2, j2, a2, b2, v2, x2, p2, h2, hd2, l2, ld2 = _step(
                a, b, i2, j2, a2, b2, v2, x2, p2, h2, hd2, l2, ld2, n1, n2, unit
            )
            i3, j3, a3, b3, v3, x3, p3, h3, hd3, l3, ld3 = _step(
                a, b, i3, j3, a3, b3, v3, x3, p3, h3, hd3, l3, ld3, n1, n2, unit
            )
        s0, s1, s2, s3 = s0 + p0, s1 + p1, s2 + p2, s3 + p3
        done += block
    # The streams' remaining steps, one stream at a time.
    p0 = 0.0
    for k in range(steps[0] - common):
        i0, j0, a0, b0, v0, x0, p0, h0, hd0, l0, ld0 = _step(
            a, b, i0, j0, a0, b0, v0, x0, p0, h0, hd0, l0, ld0, n1, n2, unit
        )
        if k % _BLOCK == _BLOCK - 1:
            s0, p0 = s0 + p0, 0.0
    s0 += p0
    p1 = 0.0
    for k in range(steps[1] - common):
        i1, j1, a1, b1, v1, x1, p1, h1, hd1, l1, ld1 = _step(
            a, b, i1, j1, a1, b1, v1, x1, p1, h1, hd1, l1, ld1, n1, n2, unit
        )
        if k % _BLOCK == _BLOCK - 1:
            s1, p1 = s1 + p1, 0.0
    s1 += p1
    p2 = 0.0
    for k in range(steps[2] - common):
        i2, j2, a2, b2, v2, x2, p2, h2, hd2, l2, ld2 = _step(
            a, b, i2, j2, a2, b2, v2, x2, p2, h2, hd2, l2, ld2, n1, n2, unit
        )
        if k % _BLOCK == _BLOCK - 1:
            s2, p2 = s2 + p2, 0.0
    s2 += p2
    p3 = 0.0
    for k in range(steps[3] - common):
        i3, j3, a3, b3, v3, x3, p3, h3, hd3, l3, ld3 = _step(
            a, b, i3, j3, a3, b3, v3, x3, p3, h3, hd3, l3, ld3, n1, n2, unit
        )
        if k % _BLOCK == _BLOCK - 1:
            s3, p3 = s3 + p3, 0.0
    s3 += p3
    high, high_d, low, low_d = h0, hd0, l0, ld0
    for h, hd, lo, ld in ((h1, hd1, l1, ld1), (h2, hd2, l2, ld2), (h3, hd3, l3, ld3)):
        if h > high or (h == high and hd > high_d):
            high, high_d = h, hd
        if lo < low or (lo == low and ld < low_d):
            low, low_d = lo, ld
    out[0] = high_d
    out[1] = low_d
    out[2] = (s0 + s1) + (s2 + s3)


merge_statistics = _cached(_merge_statistics_python)


def _moments_python(values: Any, out: Any) -> None:
    """Mean and Σ(x − mean)² of ``values`` in two passes, without a temporary array (the
    second pass corrects the first pass's rounding of the mean).

    Eight running sums per block of :data:`_BLOCK` values (independent chains the core
    overlaps), blocks added into the total: the rounding error stays near numpy's pairwise
    summation's.
    """
    n = values.shape[0]
    total = 0.0
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        k = start
        while k + 8 <= stop:
            s0 += values[k]
            s1 += values[k + 1]
            s2 += values[k + 2]
            s3 += values[k + 3]
            s4 += values[k + 4]
            s5 += values[k + 5]
            s6 += values[k + 6]
            s7 += values[k + 7]
            k += 8
        while k < stop:
            s0 += values[k]
            k += 1
        total += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    mean = total / n
    squares = 0.0
    residual = 0.0  # Σ(x − mean): the rounding error of the first pass's mean, times n
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        r0 = r1 = r2 = r3 = 0.0
        k = start
        while k + 8 <= stop:
            d0 = values[k] - mean
            d1 = values[k + 1] - mean
            d2 = values[k + 2] - mean
            d3 = values[k + 3] - mean
            d4 = values[k + 4] - mean
            d5 = values[k + 5] - mean
            d6 = values[k + 6] - mean
            d7 = values[k + 7] - mean
            s0 += d0 * d0
            s1 += d1 * d1
            s2 += d2 * d2
            s3 += d3 * d3
            s4 += d4 * d4
            s5 += d5 * d5
            s6 += d6 * d6
            s7 += d7 * d7
            r0 += d0 + d4
            r1 += d1 + d5
            r2 += d2 + d6
            r3 += d3 + d7
            k += 8
        while k < stop:
            d0 = values[k] - mean
            s0 += d0 * d0
            r0 += d0
            k += 1
        squares += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        residual += (r0 + r1) + (r2 + r3)
    # The corrected two-pass formula (Chan, Golub & LeVeque 1983): the first pass's rounding
    # error in the mean, which a large offset amplifies, drops out to first order.
    out[0] = mean + residual / n
    out[1] = max(squares - residual * residual / n, 0.0)


moments = _cached(_moments_python)


def _sorted_moments_python(values: Any, out: Any) -> None:
    """Mean, Σ(x − mean)² and the number of distinct values of a sorted, non-empty sample,
    in one pass.

    The deviations are taken from the median m (O(1) in sorted values): with S₁ = Σ(x − m)
    and S₂ = Σ(x − m)², the mean is m + S₁/n and Σ(x − mean)² = S₂ − S₁²/n. Because
    |mean − median| ≤ σ, S₁²/n ≤ S₂ and the subtraction loses at most a bit (the shifted-data
    algorithm; Chan, Golub & LeVeque 1983): as exact as two passes, for half the memory
    traffic. Sums as in :func:`_moments_python` (eight chains, blocks of :data:`_BLOCK`).
    """
    n = values.shape[0]
    shift = values[n // 2]
    first = 0.0
    second = 0.0
    changes = 0
    previous = values[0]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        s0 = s1 = s2 = s3 = 0.0
        q0 = q1 = q2 = q3 = 0.0
        k = start
        while k + 4 <= stop:
            x0, x1, x2, x3 = values[k], values[k + 1], values[k + 2], values[k + 3]
            d0, d1, d2, d3 = x0 - shift, x1 - shift, x2 - shift, x3 - shift
            s0 += d0
            s1 += d1
            s2 += d2
            s3 += d3
            q0 += d0 * d0
            q1 += d1 * d1
            q2 += d2 * d2
            q3 += d3 * d3
            changes += (x0 != previous) + (x1 != x0) + (x2 != x1) + (x3 != x2)
            previous = x3
            k += 4
        while k < stop:
            x0 = values[k]
            d0 = x0 - shift
            s0 += d0
            q0 += d0 * d0
            changes += x0 != previous
            previous = x0
            k += 1
        first += (s0 + s1) + (s2 + s3)
        second += (q0 + q1) + (q2 + q3)
    out[0] = shift + first / n
    out[1] = max(second - first * first / n, 0.0)
    out[2] = changes


sorted_moments = _cached(_sorted_moments_python)
