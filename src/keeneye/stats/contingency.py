"""Categorical two-sample tests on the 2×k contingency table (reference row, current row).

The peers' classic mistake is a goodness-of-fit test of the current counts against the
reference *frequencies*, which treats the reference as known exactly. Here both samples are
random: the test is ``scipy.stats.chi2_contingency`` on the table whose columns are every
category seen on either side. Categories absent from the reference stay in the table (they
are evidence of drift) and are listed in ``details["new_categories"]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from keeneye.errors import InputError
from keeneye.stats._clean import CategoryCounts, category_counts
from keeneye.stats._light import chi2_sf
from keeneye.stats.results import TestResult


def aligned_counts(
    reference: Mapping[Any, int], current: Mapping[Any, int]
) -> tuple[list[Any], NDArray[np.float64], NDArray[np.float64], dict[Any, int]]:
    """Counts of both sides over one category list: reference categories first, then new ones.

    Returns ``(categories, reference_counts, current_counts, new_categories)``.
    """
    categories = list(reference)
    new = {label: count for label, count in current.items() if label not in reference}
    categories.extend(new)
    ref = np.fromiter((reference.get(c, 0) for c in categories), np.float64, len(categories))
    cur = np.fromiter((current.get(c, 0) for c in categories), np.float64, len(categories))
    return categories, ref, cur, new


def table_test(
    reference: NDArray[np.float64],
    current: NDArray[np.float64],
    *,
    log_likelihood: bool = False,
    correction: bool = True,
) -> tuple[float, float, int]:
    """Statistic, p-value and degrees of freedom of the 2×k table, as ``chi2_contingency``.

    Columns that are empty on both sides must already be removed (scipy refuses them).
    """
    observed = np.vstack((reference, current))
    k = observed.shape[1]
    dof = k - 1
    if dof == 0:
        return 0.0, 1.0, 0  # scipy's convention for a single category
    rows = observed.sum(axis=1)
    columns = observed.sum(axis=0)
    expected = np.outer(rows, columns) / observed.sum()
    if dof == 1 and correction:
        # Yates: move every cell half a unit toward its expectation (never past it).
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    if log_likelihood:
        from scipy import special

        statistic = 2.0 * float(special.xlogy(observed, observed / expected).sum())
    else:
        statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, chi2_sf(statistic, dof), dof


def _counts(values: ArrayLike, what: str) -> CategoryCounts:
    counts = category_counts(values, what)
    if counts.present == 0:
        raise InputError(f"the {what} sample has no non-missing values")
    return counts


def _table_result(
    method: str,
    reference: ArrayLike,
    current: ArrayLike,
    log_likelihood: bool,
    correction: bool,
) -> TestResult:
    ref = _counts(reference, "reference")
    cur = _counts(current, "current")
    categories, ref_counts, cur_counts, new = aligned_counts(ref.counts, cur.counts)
    statistic, p_value, dof = table_test(
        ref_counts, cur_counts, log_likelihood=log_likelihood, correction=correction
    )
    details: dict[str, Any] = {
        "dof": dof,
        "categories": len(categories),
        "new_categories": new,
        "correction": correction and dof == 1,
    }
    if ref.missing or cur.missing:
        details["missing_reference"] = ref.missing
        details["missing_current"] = cur.missing
    return TestResult(method, statistic, p_value, ref.present, cur.present, details)


def chi_square(reference: ArrayLike, current: ArrayLike, *, correction: bool = True) -> TestResult:
    """Pearson's chi-square test of homogeneity on the 2×k table of category counts.

    Parameters
    ----------
    reference, current
        1-D arrays of category labels (str, bool or int); ``None``/NaN are missing and excluded.
    correction
        Yates' continuity correction, applied (as scipy does) only when the table is 2×2.
        On by default — scipy's default, and conservative for binary columns, which keeps the
        false-positive rate at or below alpha.

    Returns
    -------
    TestResult
        Equal to ``scipy.stats.chi2_contingency(table, correction=correction)``;
        ``details``: ``dof``, ``categories``, ``new_categories`` ({label: current count}).

    Notes
    -----
    χ² = Σ (O − E)² / E with E_ij = row_i · column_j / N, dof = k − 1.

    Examples
    --------
    >>> r = chi_square(["a"] * 30 + ["b"] * 70, ["a"] * 50 + ["b"] * 40 + ["c"] * 10)
    >>> r.details["new_categories"], r.details["dof"], r.p_value < 0.001
    ({'c': 10}, 2, True)
    """
    return _table_result("chi_square", reference, current, False, correction)


def g_test(reference: ArrayLike, current: ArrayLike, *, correction: bool = True) -> TestResult:
    """Likelihood-ratio (G) test of homogeneity on the 2×k table.

    Equal to ``scipy.stats.chi2_contingency(table, correction=correction,
    lambda_="log-likelihood")``: G = 2 Σ O ln(O / E), dof = k − 1.

    >>> round(g_test(["a"] * 30 + ["b"] * 70, ["a"] * 45 + ["b"] * 55).statistic, 4)
    4.2
    """
    return _table_result("g_test", reference, current, True, correction)


def proportion_z(
    reference: ArrayLike, current: ArrayLike, *, positive: object = None
) -> TestResult:
    """Two-proportion Z-test for a binary column (pooled variance, two-sided).

    Parameters
    ----------
    reference, current
        1-D arrays with at most two distinct labels between them (e.g. booleans).
    positive
        The label counted as a success; by default ``True`` if present, else the larger label.

    Notes
    -----
    z = (p̂_cur − p̂_ref) / sqrt(p̄ (1 − p̄) (1/n_ref + 1/n_cur)) with the pooled p̄; the p-value
    is 2·Φ(−|z|). This is statsmodels' ``proportions_ztest`` (default ``prop_var=False``), and
    z² equals the uncorrected 2×2 chi-square statistic.

    >>> r = proportion_z([True] * 40 + [False] * 60, [True] * 55 + [False] * 45)
    >>> round(r.statistic, 4), round(r.p_value, 4)
    (2.124, 0.0337)
    """
    ref = _counts(reference, "reference")
    cur = _counts(current, "current")
    return proportion_z_from_counts(ref.counts, cur.counts, positive)


def proportion_z_from_counts(
    reference: Mapping[Any, int], current: Mapping[Any, int], positive: object = None
) -> TestResult:
    """:func:`proportion_z` on category counts (at most two labels between both sides)."""
    labels = sorted(set(reference) | set(current), key=lambda x: (str(type(x)), x))
    if len(labels) > 2:
        raise InputError(
            f"proportion_z needs a binary column, got {len(labels)} labels "
            f"({', '.join(map(repr, labels[:5]))}); use chi_square for categories"
        )
    if positive is None:
        positive = True if True in labels else labels[-1]
    x1, n1 = reference.get(positive, 0), sum(reference.values())
    x2, n2 = current.get(positive, 0), sum(current.values())
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance == 0.0:
        z, p_value = 0.0, 1.0  # both samples all-success or all-failure: identical
    else:
        z = (x2 / n2 - x1 / n1) / math.sqrt(variance)
        p_value = math.erfc(abs(z) / math.sqrt(2.0))  # 2·(1 − Φ(|z|))
    details = {
        "positive": positive,
        "proportion_reference": x1 / n1,
        "proportion_current": x2 / n2,
    }
    return TestResult("proportion_z", float(z), p_value, n1, n2, details)
