"""Anderson–Darling k-sample and Cramér–von Mises two-sample tests (delegated to scipy).

Both weigh the whole ECDF difference rather than its largest gap (KS); Anderson–Darling gives
the tails more weight. They are not part of the default rule — pin them per feature.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from keeneye.errors import InputError
from keeneye.stats._clean import dropped_details, numeric_values
from keeneye.stats.results import TestResult

FloatArray = NDArray[np.float64]

#: scipy's interpolated Anderson–Darling p-values are clipped to this range.
AD_P_VALUE_FLOOR = 0.001
AD_P_VALUE_CAP = 0.25


def _ad_variant() -> bool:
    """scipy 1.17 replaced `midrank=True` by `variant="midrank"` (and warns on the old one)."""
    from scipy import stats

    return "variant" in inspect.signature(stats.anderson_ksamp).parameters


def _finite(values: ArrayLike, what: str) -> tuple[FloatArray, Any]:
    finite, counts = numeric_values(values, what)
    if finite.size == 0:
        raise InputError(f"the {what} sample has no finite values")
    return finite, counts


def anderson_darling_arrays(a: FloatArray, b: FloatArray) -> tuple[float, float, dict[str, Any]]:
    """Statistic, p-value and details of the midrank k-sample test on two finite samples."""
    if np.unique(np.concatenate((a, b))).size < 2:
        # scipy rejects a pooled sample with a single value; the samples are identical.
        return 0.0, 1.0, {"identical": True}
    with warnings.catch_warnings():
        # scipy warns when it caps/floors the p-value; that fact is reported in details.
        warnings.simplefilter("ignore", UserWarning)
        from scipy import stats

        if _ad_variant():
            result = stats.anderson_ksamp([a, b], variant="midrank")
        else:  # pragma: no cover - scipy < 1.17
            result = stats.anderson_ksamp([a, b], midrank=True)
    p = float(result.pvalue)
    details: dict[str, Any] = {"variant": "midrank"}
    if p <= AD_P_VALUE_FLOOR:
        details["p_value_bound"] = "floor"  # the true p-value is smaller
    elif p >= AD_P_VALUE_CAP:
        details["p_value_bound"] = "cap"  # the true p-value is larger
    return float(result.statistic), p, details


def anderson_darling(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """Anderson–Darling k-sample test (k = 2), equal to ``scipy.stats.anderson_ksamp``.

    Notes
    -----
    Scholz & Stephens' midrank statistic A²_akN, standardised. scipy interpolates the
    p-value from tabulated critical values and clips it to [0.001, 0.25]; keeneye returns
    scipy's value unchanged and marks a clipped one with ``details["p_value_bound"]`` =
    ``"floor"`` (true p is smaller) or ``"cap"`` (true p is larger). For decisions at
    α ∈ [0.001, 0.25] the clipping never changes the verdict.

    References
    ----------
    Scholz, F.W. & Stephens, M.A. (1987). K-sample Anderson–Darling tests. JASA 82, 918–924.

    >>> r = anderson_darling(np.arange(50.0), np.arange(50.0) + 30)
    >>> r.p_value, r.details["p_value_bound"]
    (0.001, 'floor')
    """
    a, dropped_a = _finite(reference, "reference")
    b, dropped_b = _finite(current, "current")
    statistic, p, details = anderson_darling_arrays(a, b)
    details.update(dropped_details(dropped_a, dropped_b))
    return TestResult("anderson_darling", statistic, p, a.size, b.size, details)


def cramer_von_mises_arrays(a: FloatArray, b: FloatArray) -> tuple[float, float, dict[str, Any]]:
    """Statistic, p-value and details of the two-sample Cramér–von Mises test."""
    if min(a.size, b.size) < 2:
        raise InputError("cramer_von_mises needs at least 2 finite values on each side")
    from scipy import stats

    result = stats.cramervonmises_2samp(a, b, method="auto")
    exact = max(a.size, b.size) <= 20  # scipy's "auto": exact up to 20 values per sample
    return float(result.statistic), float(np.clip(result.pvalue, 0.0, 1.0)), {"exact": exact}


def cramer_von_mises(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """Two-sample Cramér–von Mises test, equal to ``scipy.stats.cramervonmises_2samp``.

    Notes
    -----
    T = nm/(n+m) ∫ (F_n − G_m)² dH_{n+m} (Anderson 1962); exact p-value for samples of at most
    20 values each, otherwise the asymptotic distribution (scipy's ``method="auto"``).

    References
    ----------
    Anderson, T.W. (1962). On the distribution of the two-sample Cramér–von Mises criterion.
    Ann. Math. Statist. 33, 1148–1159.

    >>> r = cramer_von_mises([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    >>> round(r.statistic, 6), round(r.p_value, 6)
    (0.527778, 0.1)
    """
    a, dropped_a = _finite(reference, "reference")
    b, dropped_b = _finite(current, "current")
    statistic, p, details = cramer_von_mises_arrays(a, b)
    details.update(dropped_details(dropped_a, dropped_b))
    return TestResult("cramer_von_mises", statistic, p, a.size, b.size, details)
