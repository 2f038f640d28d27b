"""Moments and quantiles that stay finite for any finite input, up to ±1.8e308.

``np.std`` squares the deviations, so values beyond ~1e154 overflow (a RuntimeWarning and an
infinite result) although the true standard deviation is finite; ``np.mean`` overflows when the
sum exceeds the largest float, and ``np.quantile`` when two neighbours are more than the
largest float apart. Dividing by a power of two is exact in binary floating point, so the
inputs are brought to [-2, 2] (moments) or halved (quantiles) when — and only when — their
magnitude requires it; ordinary data takes the plain numpy path and its results are
bit-for-bit numpy's — except the moments of samples of at least
:data:`~keeneye.stats._kernels.KERNEL_FROM` values, which the compiled two-pass kernel computes
without numpy's sample-sized temporary when numba is installed (equal to numpy's to about
1e-15 relative). A standard deviation that really exceeds the largest float (possible
with ddof = 1, e.g. of [-1.7e308, 1.7e308]) is returned as ``inf``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from keeneye.stats._kernels import KERNEL_FROM, moments_compiled, sorted_moments_compiled

FloatArray = NDArray[np.float64]

#: Below this magnitude the squared deviations of any sample (up to 2**60 values) stay finite.
_SAFE_FOR_SQUARES = 2.0**400
#: Above this magnitude sums and neighbour differences can overflow; also tiny magnitudes,
#: whose squares underflow to zero, are rescaled.
_TINY_FOR_SQUARES = 2.0**-400
_SAFE_FOR_DIFFERENCES = 2.0**1020


def abs_max(values: FloatArray, *, is_sorted: bool = False) -> float:
    """Largest |x| of a non-empty finite sample (O(1) when it is sorted)."""
    if is_sorted:
        return max(abs(float(values[0])), abs(float(values[-1])))
    return max(abs(float(values.min())), abs(float(values.max())))


def _power_of_two_scale(magnitude: float) -> float:
    """2**e with magnitude / 2**e in [1, 2): dividing by it is exact (barring subnormals)."""
    return math.ldexp(1.0, math.frexp(magnitude)[1] - 1)


def mean_std(
    values: FloatArray, *, ddof: int = 0, is_sorted: bool = False
) -> tuple[float, float | None]:
    """Mean and standard deviation of a finite, non-empty sample (std ``None`` if n <= ddof).

    >>> mean_std(np.array([1e250, 2e250]), ddof=1)
    (1.5e+250, 7.071067811865475e+249)
    >>> mean_std(np.array([1.0, 2.0, 3.0]))
    (2.0, 0.816496580927726)
    """
    n = values.size
    mean, std = _plain_or_scaled(values, ddof, n, abs_max(values, is_sorted=is_sorted))
    if is_sorted:  # rounding can put the mean of near-equal values just outside them
        mean = min(max(mean, float(values[0])), float(values[-1]))
    return mean, std


@dataclass(frozen=True)
class SortedMoments:
    """Mean, sample standard deviation (ddof = 1; ``None`` for one value) and number of
    distinct values of a sorted sample."""

    mean: float
    std: float | None
    distinct: int


def sorted_moments(ordered: FloatArray) -> SortedMoments:
    """:func:`mean_std` (ddof = 1) and the number of distinct values of a sorted, finite,
    non-empty sample; for large ordinary samples in one compiled two-pass kernel (the distinct
    values counted in the first pass), without a sample-sized temporary.

    >>> sorted_moments(np.array([1.0, 2.0, 2.0, 7.0]))
    SortedMoments(mean=3.0, std=2.70801280154532, distinct=3)
    """
    n = ordered.size
    magnitude = abs_max(ordered, is_sorted=True)
    ordinary = _TINY_FOR_SQUARES <= magnitude <= _SAFE_FOR_SQUARES or magnitude == 0.0
    if n >= KERNEL_FROM and ordinary:
        compiled = sorted_moments_compiled(ordered)
        if compiled is not None:
            mean, squares, distinct = compiled
            # Rounding can put the mean of near-equal values just outside them.
            mean = min(max(mean, float(ordered[0])), float(ordered[-1]))
            return SortedMoments(mean, math.sqrt(squares / (n - 1)), distinct)
    mean, std = mean_std(ordered, ddof=1, is_sorted=True)
    return SortedMoments(mean, std, int(np.count_nonzero(ordered[1:] != ordered[:-1]) + 1))


def _moments(values: FloatArray, ddof: int) -> tuple[float, float | None]:
    """Mean and std of an ordinary (not huge, not tiny) sample: numpy's, or for large samples
    the compiled two-pass kernel's (no window-sized temporary; equal to numpy's to ~1e-15)."""
    n = values.size
    if n >= KERNEL_FROM:
        compiled = moments_compiled(values)
        if compiled is not None:
            mean, squares = compiled
            return mean, math.sqrt(squares / (n - ddof)) if n > ddof else None
    std = float(np.std(values, ddof=ddof)) if n > ddof else None
    return float(np.mean(values)), std


def population_std(sorted_values: FloatArray) -> float:
    """Standard deviation (ddof = 0) of a sorted, finite, non-empty sample, without overflow.

    >>> population_std(np.array([-1.5e308, 1.5e308]))
    1.5e+308
    """
    magnitude = abs_max(sorted_values, is_sorted=True)
    if _TINY_FOR_SQUARES <= magnitude <= _SAFE_FOR_SQUARES or magnitude == 0.0:
        std = _moments(sorted_values, 0)[1]  # the plain path
        assert std is not None  # n > 0
        return std
    scale = _power_of_two_scale(magnitude)
    return float(np.std(sorted_values / scale)) * scale


def _plain_or_scaled(
    values: FloatArray, ddof: int, n: int, magnitude: float
) -> tuple[float, float | None]:
    if _TINY_FOR_SQUARES <= magnitude <= _SAFE_FOR_SQUARES or magnitude == 0.0:
        return _moments(values, ddof)
    scale = _power_of_two_scale(magnitude)
    scaled = values / scale
    # Back in Python floats: a product beyond the largest float becomes inf, without a warning.
    mean = float(np.mean(scaled)) * scale
    std = float(np.std(scaled, ddof=ddof)) * scale if n > ddof else None
    return mean, std


def quantiles(sorted_values: FloatArray, probabilities: FloatArray) -> FloatArray:
    """``np.quantile`` (linear) of a sorted, finite, non-empty sample, without overflow.

    The result is bit-for-bit ``np.quantile``'s (its index, weight and interpolation
    formulas), but read straight from the sorted values: ``np.quantile`` would copy and
    partition the whole sample again (about 10 ms per million values).

    >>> quantiles(np.array([-1.7e308, 1.7e308]), np.array([0.5])).tolist()
    [0.0]
    >>> quantiles(np.arange(1.0, 11.0), np.array([0.0, 0.25, 0.5, 1.0])).tolist()
    [1.0, 3.25, 5.5, 10.0]
    """
    n = sorted_values.size
    virtual = (n - 1) * np.asarray(probabilities, dtype=np.float64)
    previous = np.floor(virtual)
    following = previous + 1
    # As numpy: at or past the last index both neighbours are the maximum, before the first
    # both are the minimum.
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    below = virtual < 0
    previous[below] = 0
    following[below] = 0
    lower_index, upper_index = previous.astype(np.intp), following.astype(np.intp)
    gamma = virtual - lower_index
    lower, upper = sorted_values[lower_index], sorted_values[upper_index]
    halved = abs_max(sorted_values, is_sorted=True) > _SAFE_FOR_DIFFERENCES
    if halved:  # halving is exact except for subnormal neighbours (error below 5e-324)
        lower, upper = lower / 2.0, upper / 2.0
    difference = upper - lower
    result = lower + difference * gamma
    # numpy interpolates from the nearer neighbour, which keeps the result monotonic.
    np.subtract(upper, difference * (1 - gamma), out=result, where=gamma >= 0.5)
    return result * 2.0 if halved else result
