"""Two-sample Kolmogorov–Smirnov test, equal to ``scipy.stats.ks_2samp(method="auto")``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from keeneye.errors import InputError
from keeneye.stats._clean import dropped_details, numeric_values
from keeneye.stats._ecdf import compare_sorted
from keeneye.stats._kolmogorov import kstwo_sf
from keeneye.stats._light import exact_ks_p_value
from keeneye.stats.results import TestResult

#: scipy's ``method="auto"`` is exact when both samples have at most this many values.
MAX_EXACT_N = 10_000


def ks_p_values(
    statistics: Sequence[float], n_reference: Sequence[int], n_current: Sequence[int]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Two-sided p-values for many KS statistics at once, as ``ks_2samp(method="auto")``.

    Returns ``(statistics, p_values, exact)``. In the exact branch the statistic is rounded to
    the lattice ``h / lcm(n1, n2)`` like scipy does. The asymptotic branch (either sample above
    ``MAX_EXACT_N``, or the exact recursion overflows) is
    ``scipy.stats.kstwo.sf(d, round(n1·n2/(n1+n2)))``, with its slowest branch vectorised
    (see ``keeneye.stats._kolmogorov``).
    """
    d = np.asarray(statistics, dtype=np.float64).copy()
    n1 = np.asarray(n_reference, dtype=np.int64)
    n2 = np.asarray(n_current, dtype=np.int64)
    p = np.full(d.shape, np.nan)
    exact = np.zeros(d.shape, dtype=bool)
    for i in np.flatnonzero(np.maximum(n1, n2) <= MAX_EXACT_N):
        ok, d_i, p_i = _exact_p_value(int(n1[i]), int(n2[i]), float(d[i]))
        d[i] = d_i  # scipy keeps the lattice-rounded D even when the recursion gives up
        if ok:
            p[i], exact[i] = p_i, True
    asymptotic = ~exact
    if asymptotic.any():
        big = np.maximum(n1[asymptotic], n2[asymptotic]).astype(np.float64)
        small = np.minimum(n1[asymptotic], n2[asymptotic]).astype(np.float64)
        en = big * small / (big + small)
        p[asymptotic] = kstwo_sf(d[asymptotic], np.round(en))
    return d, np.clip(p, 0.0, 1.0), exact


def _exact_p_value(n1: int, n2: int, d: float) -> tuple[bool, float, float]:
    # Equal sizes and small lattices without scipy (keeneye.stats._light); larger ones by
    # scipy_exact_p_value.
    return exact_ks_p_value(n1, n2, d)


def scipy_exact_p_value(n1: int, n2: int, d: float) -> tuple[bool, float, float]:
    """``(ok, D, p)`` by scipy's exact small-sample distribution of D.

    scipy's function (Hodges' lattice-path counts, compiled with pythran) is private API. It
    is used when present (fast, identical to ks_2samp); if a scipy release moves it, the same
    p-value comes from the public ks_2samp on two tied samples that realise the same D (see
    :func:`_exact_via_public_api`), so keeneye stays exact.
    """
    try:
        from scipy.stats._stats_py import _attempt_exact_2kssamp
    except ImportError:  # pragma: no cover - depends on the installed scipy
        return _exact_via_public_api(n1, n2, d)
    ok, d_exact, p = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
    return bool(ok), float(d_exact), float(p)


def _exact_via_public_api(n1: int, n2: int, d: float) -> tuple[bool, float, float]:
    """``(ok, D, p)`` from ``ks_2samp(method="exact")`` on two samples whose D is ``d``.

    The exact p-value depends only on (n1, n2, D). D is a lattice value r1/n1 − r2/n2; with
    r1 (r2) values of each sample at 0 and the rest at 1, the ECDFs differ only at 0, by
    exactly that. Slower than the private function (it builds n1 + n2 values), same result.
    """
    r1 = np.arange(n1 + 1)
    r2 = np.rint((r1 / n1 - d) * n2)
    valid = (r2 >= 0) & (r2 <= n2) & (np.abs(r1 * n2 - r2 * n1 - d * n1 * n2) < 0.5)
    if d <= 0.0 or not valid.any():
        return True, max(d, 0.0), 1.0
    k = int(np.flatnonzero(valid)[0])
    first = np.repeat([0.0, 1.0], [k, n1 - k])
    second = np.repeat([0.0, 1.0], [int(r2[k]), n2 - int(r2[k])])
    from scipy import stats

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        result = stats.ks_2samp(first, second, method="exact")
    ok = not any(issubclass(w.category, RuntimeWarning) for w in caught)
    return ok, float(result.statistic), float(result.pvalue)


def ks(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """Two-sample Kolmogorov–Smirnov test (two-sided).

    Parameters
    ----------
    reference, current
        1-D numeric samples. NaN, ±inf and missing values are dropped and counted in
        ``details["dropped_reference"]`` / ``details["dropped_current"]``.

    Returns
    -------
    TestResult
        ``statistic`` = D = sup |F_ref(x) − F_cur(x)|, ``p_value`` as
        ``scipy.stats.ks_2samp(reference, current, method="auto")``, ``details["exact"]``.

    Notes
    -----
    With n, m ≤ 10,000 the p-value is the exact distribution of D under H0 (Hodges 1958, as
    implemented by scipy); otherwise ``kstwo.sf(D, round(n·m/(n+m)))``. Ties are handled by
    evaluating both ECDFs at the end of every run of equal values.

    References
    ----------
    Hodges, J.L. (1958). The significance probability of the Smirnov two-sample test.
    Arkiv för Matematik 3, 469–486.

    Examples
    --------
    >>> r = ks([0.1, 0.4, 0.7, 0.9, 1.3], [0.2, 0.5, 2.1, 2.5, 3.0])
    >>> r.statistic, round(r.p_value, 6)
    (0.6, 0.357143)
    """
    a, dropped_a = numeric_values(reference, "reference")
    b, dropped_b = numeric_values(current, "current")
    if a.size == 0 or b.size == 0:
        side = "reference" if a.size == 0 else "current"
        raise InputError(f"ks: the {side} sample has no finite values")
    return ks_sorted(np.sort(a), np.sort(b), dropped_details(dropped_a, dropped_b))


def ks_sorted(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    extra_details: dict[str, object] | None = None,
) -> TestResult:
    """:func:`ks` on already sorted, finite, non-empty samples (no validation)."""
    d = compare_sorted(a, b).ks
    ds, ps, exact = ks_p_values([d], [a.size], [b.size])
    details: dict[str, object] = {"exact": bool(exact[0])}
    details.update(extra_details or {})
    return TestResult("ks", float(ds[0]), float(ps[0]), a.size, b.size, details)
