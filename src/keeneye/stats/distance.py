"""Distances between two distributions, used as effect sizes.

Numeric columns are binned on the *reference's* quantiles (deciles by default), so every bin
holds about the same share of the reference and the binning is fitted once per baseline.
Categorical columns use the categories of both sides (new categories get reference share 0).

Empty bins: PSI and KL divide by a proportion, so a bin that is empty on one side would make
them infinite. Such proportions are raised to ``EPSILON = 1e-4`` and each distribution is then
renormalised to sum to 1 (the same ε as Evidently and the usual PSI practice; renormalising
keeps KL equal to ``scipy.stats.entropy``). Jensen–Shannon and Hellinger are finite with
empty bins and use the raw proportions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from keeneye.errors import InputError
from keeneye.stats._clean import category_counts, dropped_details, numeric_values
from keeneye.stats._ecdf import compare_sorted
from keeneye.stats._light import jensen_shannon as _jensen_shannon
from keeneye.stats._robust import population_std, quantiles
from keeneye.stats.contingency import aligned_counts
from keeneye.stats.results import TestResult

FloatArray = NDArray[np.float64]

#: Smallest proportion used by PSI and KL for an empty bin or category.
EPSILON = 1e-4
#: Default number of reference-quantile bins for numeric distances.
DEFAULT_BINS = 10


def quantile_edges(sorted_reference: FloatArray, bins: int = DEFAULT_BINS) -> FloatArray:
    """Inner bin edges: the distinct reference quantiles at 1/bins, 2/bins, … (bins−1 values).

    Bins are (−∞, e₁], (e₁, e₂], …, (e_last, +∞), so values outside the reference's range
    still land in the outer bins. Ties in the reference merge bins (fewer, never empty ones).

    >>> quantile_edges(np.arange(1.0, 11.0), bins=4).tolist()
    [3.25, 5.5, 7.75]
    """
    if bins < 2:
        raise InputError(f"bins must be at least 2, got {bins}")
    probabilities = np.arange(1, bins) / bins
    return np.unique(quantiles(sorted_reference, probabilities))


def bin_counts(sorted_values: FloatArray, edges: FloatArray) -> FloatArray:
    """Counts per bin of already sorted values (a handful of binary searches, no pass)."""
    at_or_below = np.searchsorted(sorted_values, edges, side="right")
    return np.diff(np.concatenate(([0], at_or_below, [sorted_values.size]))).astype(np.float64)


def _smoothed(counts: FloatArray) -> FloatArray:
    proportions = counts / counts.sum()
    proportions = np.maximum(proportions, EPSILON)
    return proportions / proportions.sum()


def psi_from_counts(reference: FloatArray, current: FloatArray) -> float:
    """PSI = Σ (q − p) ln(q / p) over ε-smoothed proportions (p reference, q current)."""
    p, q = _smoothed(reference), _smoothed(current)
    return float(np.sum((q - p) * np.log(q / p)))


def kl_from_counts(reference: FloatArray, current: FloatArray) -> float:
    """KL(current ‖ reference) = Σ q ln(q / p) in nats, over ε-smoothed proportions."""
    p, q = _smoothed(reference), _smoothed(current)
    return float(np.sum(q * np.log(q / p)))


def jensen_shannon_from_counts(reference: FloatArray, current: FloatArray) -> float:
    """Jensen–Shannon *distance* in base 2 (in [0, 1]) = ``jensenshannon(p, q, base=2)``."""
    return _jensen_shannon(reference, current)


def hellinger_from_counts(reference: FloatArray, current: FloatArray) -> float:
    """Hellinger distance sqrt(1 − Σ sqrt(p q)) in [0, 1]."""
    p = reference / reference.sum()
    q = current / current.sum()
    return math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q)))))


#: method name → function of two aligned count vectors.
FROM_COUNTS: dict[str, Callable[[FloatArray, FloatArray], float]] = {
    "psi": psi_from_counts,
    "kl_divergence": kl_from_counts,
    "jensen_shannon": jensen_shannon_from_counts,
    "hellinger": hellinger_from_counts,
}


def _sorted_finite(values: ArrayLike, what: str) -> tuple[FloatArray, Any]:
    finite, counts = numeric_values(values, what)
    if finite.size == 0:
        raise InputError(f"the {what} sample has no finite values")
    return np.sort(finite), counts


def _binned(method: str, reference: ArrayLike, current: ArrayLike, bins: int) -> TestResult:
    a, dropped_a = _sorted_finite(reference, "reference")
    b, dropped_b = _sorted_finite(current, "current")
    edges = quantile_edges(a, bins)
    ref_counts, cur_counts = bin_counts(a, edges), bin_counts(b, edges)
    details: dict[str, Any] = {"bins": int(edges.size + 1), "edges": edges.tolist()}
    if method in ("psi", "kl_divergence"):
        details["epsilon"] = EPSILON
    details.update(dropped_details(dropped_a, dropped_b))
    value = FROM_COUNTS[method](ref_counts, cur_counts)
    return TestResult(method, value, None, a.size, b.size, details)


def psi(reference: ArrayLike, current: ArrayLike, *, bins: int = DEFAULT_BINS) -> TestResult:
    """Population Stability Index on reference-quantile bins.

    Notes
    -----
    PSI = Σᵢ (qᵢ − pᵢ) ln(qᵢ / pᵢ), p the reference and q the current share of bin i, with
    empty bins raised to ε = 1e-4 and renormalised. Rule of thumb (Siddiqi 2006): < 0.1 no
    significant change, 0.1–0.25 moderate, > 0.25 major.

    References
    ----------
    Siddiqi, N. (2006). Credit Risk Scorecards. Wiley.

    >>> x = np.arange(1000.0)
    >>> psi(x, x).statistic
    0.0
    """
    return _binned("psi", reference, current, bins)


def jensen_shannon(
    reference: ArrayLike, current: ArrayLike, *, bins: int = DEFAULT_BINS
) -> TestResult:
    """Jensen–Shannon distance (base 2, in [0, 1]) between the binned distributions.

    Equal to ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` on the reference-quantile
    bin counts: sqrt(½ KL(p ‖ m) + ½ KL(q ‖ m)), m = (p + q)/2.

    >>> round(jensen_shannon(np.arange(100.0), np.arange(100.0) + 1000).statistic, 6)
    0.870791
    """
    return _binned("jensen_shannon", reference, current, bins)


def hellinger(reference: ArrayLike, current: ArrayLike, *, bins: int = DEFAULT_BINS) -> TestResult:
    """Hellinger distance sqrt(1 − Σ sqrt(pᵢ qᵢ)) (in [0, 1]) between the binned distributions.

    >>> hellinger(np.arange(100.0), np.arange(100.0)).statistic
    0.0
    """
    return _binned("hellinger", reference, current, bins)


def kl_divergence(
    reference: ArrayLike, current: ArrayLike, *, bins: int = DEFAULT_BINS
) -> TestResult:
    """Kullback–Leibler divergence KL(current ‖ reference) in nats between the binned distributions.

    Equal to ``scipy.stats.entropy(q, p)`` on the ε-smoothed bin proportions.

    >>> kl_divergence(np.arange(100.0), np.arange(100.0)).statistic
    0.0
    """
    return _binned("kl_divergence", reference, current, bins)


def wasserstein(reference: ArrayLike, current: ArrayLike, *, normed: bool = True) -> TestResult:
    """Wasserstein-1 (earth mover's) distance, by default divided by the reference's std.

    Notes
    -----
    W₁ = ∫ |F_ref(x) − F_cur(x)| dx, equal to ``scipy.stats.wasserstein_distance``. Normed,
    it is W₁ / σ_ref (population std, ddof=0), i.e. in units of reference standard
    deviations: a shift of the mean by 0.5 σ gives 0.5. ``details`` keeps the raw value.

    >>> r = wasserstein([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    >>> r.details["raw"], round(r.statistic, 6)
    (1.0, 0.894427)
    """
    a, dropped_a = _sorted_finite(reference, "reference")
    b, dropped_b = _sorted_finite(current, "current")
    merged = compare_sorted(a, b)
    raw = merged.wasserstein  # inf only if W₁ itself exceeds the largest float
    std = population_std(a)
    details: dict[str, Any] = {"raw": raw, "reference_std": std, "normed": normed}
    details.update(dropped_details(dropped_a, dropped_b))
    if not normed:
        return TestResult("wasserstein", raw, None, a.size, b.size, details)
    if std == 0.0:
        raise InputError(
            "the reference sample is constant, so the normed Wasserstein distance is undefined; "
            "use normed=False"
        )
    value = merged.wasserstein_scaled / (std / merged.scale)  # exact rescaling, no overflow
    return TestResult("wasserstein", value, None, a.size, b.size, details)


def _categorical(method: str, reference: ArrayLike, current: ArrayLike) -> TestResult:
    ref = category_counts(reference, "reference")
    cur = category_counts(current, "current")
    for counts, what in ((ref, "reference"), (cur, "current")):
        if counts.present == 0:
            raise InputError(f"the {what} sample has no non-missing values")
    categories, ref_counts, cur_counts, new = aligned_counts(ref.counts, cur.counts)
    details: dict[str, Any] = {"categories": len(categories), "new_categories": new}
    if method in ("psi", "kl_divergence"):
        details["epsilon"] = EPSILON
    value = FROM_COUNTS[method](ref_counts, cur_counts)
    return TestResult(method, value, None, ref.present, cur.present, details)


def psi_categorical(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """PSI over categories (new categories get reference share ε).

    >>> round(psi_categorical(["a", "a", "b", "b"], ["a", "b", "b", "b"]).statistic, 6)
    0.274653
    """
    return _categorical("psi", reference, current)


def jensen_shannon_categorical(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """Jensen–Shannon distance (base 2) between category distributions.

    >>> jensen_shannon_categorical(["a", "b"], ["c", "d"]).statistic
    1.0
    """
    return _categorical("jensen_shannon", reference, current)


def hellinger_categorical(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """Hellinger distance between category distributions.

    >>> hellinger_categorical(["a", "b"], ["c", "d"]).statistic
    1.0
    """
    return _categorical("hellinger", reference, current)


def kl_divergence_categorical(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """KL(current ‖ reference) in nats between ε-smoothed category distributions.

    >>> kl_divergence_categorical(["a", "b"], ["a", "b"]).statistic
    0.0
    """
    return _categorical("kl_divergence", reference, current)
