"""Small-sample p-values and distances without importing scipy.

``import scipy.stats`` costs most of a second of CPU — more than a whole ``keeneye compare``
of two small files. The few functions such a comparison needs are written here with ``math``
and numpy, and delegate to scipy only where their own formula would lose precision or time
(large degrees of freedom, far tails, large exact KS lattices). Tests hold them equal to scipy
(to 1e-12 relative or better).

* :func:`chi2_sf` — the chi-square survival function for integer degrees of freedom, by the
  closed forms of the regularised upper incomplete gamma function Q(k/2, x/2): a finite sum of
  Poisson terms for even k, ``erfc`` plus such a sum for odd k. Every term is positive, so
  the sum loses nothing to cancellation.
* :func:`exact_ks_p_value` — the two-sided exact p-value of the two-sample KS statistic, as
  ``scipy.stats.ks_2samp(method="exact")``: Hodges' (1958) lattice-path probabilities, the
  same recursions as scipy's (``_compute_prob_outside_square`` for equal sizes,
  ``_compute_outer_prob_inside_method`` otherwise, in Python here up to
  :data:`PYTHON_LATTICE_MAX` steps).
* :func:`jensen_shannon` — ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Degrees of freedom up to which :func:`chi2_sf` sums its terms itself.
CHI2_MAX_DOF = 200
#: Below this p-value (far tail, near the subnormal range) scipy's function decides.
CHI2_MIN_P = 1e-250
#: Lattice steps (m·n) up to which the unequal-size exact KS recursion runs in Python.
PYTHON_LATTICE_MAX = 40_000


def chi2_sf(statistic: float, dof: int) -> float:
    """P(χ²_dof ≥ statistic), as ``scipy.stats.chi2.sf``.

    >>> round(chi2_sf(3.841458820694124, 1), 12), round(chi2_sf(5.991464547107979, 2), 12)
    (0.05, 0.05)
    """
    if statistic <= 0.0:
        return 1.0
    if math.isinf(statistic):
        return 0.0
    if dof <= CHI2_MAX_DOF:
        half = statistic / 2.0
        log_half = math.log(half)
        if dof % 2 == 0:
            total, first = 0.0, 0  # Q(k/2, x/2) = Σ_{i<k/2} e^{-x/2} (x/2)^i / i!
        else:
            total, first = math.erfc(math.sqrt(half)), 1  # + Σ (x/2)^{i+½} e^{-x/2} / Γ(i+3/2)
        for i in range(dof // 2):
            power = i + 0.5 * first
            total += math.exp(power * log_half - half - math.lgamma(power + 1.0))
        if total >= CHI2_MIN_P:
            return min(total, 1.0)
    from scipy import stats

    return float(stats.chi2.sf(statistic, dof))


def _prob_outside_square(n: int, h: int) -> float:
    """Share of lattice paths leaving |x − y| < h (equal sizes; scipy's recursion)."""
    total = 0.0
    k = n // h
    while k >= 0:
        p1 = 1.0
        for j in range(h):
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1)
        total = p1 * (1.0 - total)
        k -= 1
    return 2 * total


def _outer_prob_inside(m: int, n: int, g: int, h: int) -> float:
    """Share of lattice paths from (0, 0) to (m, n) leaving |n·x/g − m·y/g| < h (scipy's
    column-by-column recursion with a sliding window)."""
    if m < n:
        m, n = n, m
    mg, ng = m // g, n // g
    minj, maxj = 0, min(-(-h // mg), n + 1)
    curlen = maxj - minj
    column = np.ones(min(2 * maxj + 2, n + 1))
    column[minj:maxj] = 0.0
    for i in range(1, m + 1):
        lastminj, lastlen = minj, curlen
        minj = min(max((ng * i - h) // mg + 1, 0), n)
        maxj = min(-(-(ng * i + h) // mg), n + 1)
        if maxj <= minj:
            return 1.0
        value = 0.0 if minj == 0 else 1.0
        for jj in range(maxj - minj):
            j = jj + minj
            value = (float(column[jj + minj - lastminj]) * i + value * j) / (i + j)
            column[jj] = value
        curlen = maxj - minj
        if lastlen > curlen:
            column[maxj - minj : maxj - minj + (lastlen - curlen)] = 1.0
    return float(column[maxj - minj - 1])


def exact_ks_p_value(n1: int, n2: int, d: float) -> tuple[bool, float, float]:
    """``(ok, D, p)`` of the exact two-sided two-sample KS test, as scipy's ``ks_2samp``.

    D is rounded to the lattice ``h / lcm(n1, n2)`` as scipy does; ``ok`` is false when the
    recursion overflows (scipy then switches to the asymptotic distribution).

    >>> ok, d, p = exact_ks_p_value(5, 5, 0.6)
    >>> ok, d, round(p, 6)
    (True, 0.6, 0.357143)
    """
    g = math.gcd(n1, n2)
    lcm = (n1 // g) * n2
    h = int(np.round(d * lcm))
    d = h * 1.0 / lcm
    if h == 0:
        return True, d, 1.0
    if n1 != n2 and n1 * n2 > PYTHON_LATTICE_MAX:
        return _scipy_exact(n1, n2, g, d)
    try:
        with np.errstate(invalid="raise", over="raise"):
            p = _prob_outside_square(n1, h) if n1 == n2 else _outer_prob_inside(n1, n2, g, h)
    except (FloatingPointError, OverflowError):
        return False, d, math.nan
    if not (0.0 <= p <= 1.0):
        return False, d, p
    return True, d, p


def _scipy_exact(n1: int, n2: int, g: int, d: float) -> tuple[bool, float, float]:
    from keeneye.stats.ks import scipy_exact_p_value

    return scipy_exact_p_value(n1, n2, d)


def jensen_shannon(reference: FloatArray, current: FloatArray) -> float:
    """Jensen–Shannon distance in base 2 of two count vectors, as
    ``scipy.spatial.distance.jensenshannon(reference, current, base=2)``.

    >>> round(jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0])), 12)
    1.0
    """
    p = reference / np.sum(reference)
    q = current / np.sum(current)
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0.0, p * np.log(p / m), 0.0)
        right = np.where(q > 0.0, q * np.log(q / m), 0.0)
    js = (np.sum(left) + np.sum(right)) / np.log(2.0)
    return float(np.sqrt(js / 2.0))
