"""Two-sample tests for embeddings (rows of float vectors): a kernel test (MMD) and a domain
classifier, with the mean-vector cosine distance as effect size.

Pure functions over 2-D arrays returning small frozen results. Both tests work on a bounded
sample of each side (``max_samples`` rows, drawn with the seeded ``rng``), so their cost does
not grow with the window.

>>> rng = np.random.default_rng(0)
>>> x, y = rng.normal(size=(200, 4)), rng.normal(size=(200, 4))
>>> mmd_test(x, y, level=0.01, seed=1).drifted
False
>>> mmd_test(x, y + 1.0, level=0.01, seed=1).drifted
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from keeneye.errors import InputError, require

#: Rows of each side the tests use at most (a seeded sample beyond it).
DEFAULT_MAX_SAMPLES = 300
#: Permutations of the MMD null at least (more when the level asks for it).
MIN_PERMUTATIONS = 200
#: Cross-validation folds of the domain classifier.
DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class MMDResult:
    """The kernel two-sample test: the unbiased MMD² estimate with an RBF kernel, its
    permutation p-value and the verdict at ``level``."""

    statistic: float
    p_value: float
    bandwidth: float
    permutations: int
    n_reference: int
    n_current: int
    level: float

    @property
    def drifted(self) -> bool:
        return self.p_value < self.level


@dataclass(frozen=True)
class ClassifierResult:
    """The domain classifier: cross-validated ROC AUC of telling current rows from reference
    rows, its confidence interval, the one-sided p-value of AUC > 0.5 and the verdict."""

    auc: float
    ci_low: float
    ci_high: float
    p_value: float
    folds: int
    n_reference: int
    n_current: int
    level: float

    @property
    def drifted(self) -> bool:
        return self.p_value < self.level


def as_matrix(values: object, what: str) -> NDArray[np.float64]:
    """``values`` as a 2-D float64 array of finite numbers (rows with NaN/±inf are dropped)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise InputError(f"{what} must be a 2-D array of vectors, got {array.ndim} dimension(s)")
    return array[np.isfinite(array).all(axis=1)]


def _sample(x: NDArray[np.float64], n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    if len(x) <= n:
        return x
    return x[rng.choice(len(x), size=n, replace=False)]


def _check_pair(x: NDArray[np.float64], y: NDArray[np.float64]) -> None:
    if x.shape[1] != y.shape[1]:
        raise InputError(
            f"reference vectors have {x.shape[1]} dimensions but current vectors have "
            f"{y.shape[1]}; compare embeddings of the same model"
        )
    if len(x) < 2 or len(y) < 2:
        raise InputError("an embedding test needs at least 2 finite vectors on each side")


def median_bandwidth(z: NDArray[np.float64]) -> float:
    """The median heuristic: the median Euclidean distance between distinct rows of ``z``
    (1.0 when every row is the same)."""
    sq = _squared_distances(z)
    upper = sq[np.triu_indices(len(z), k=1)]
    median = float(np.sqrt(np.median(upper))) if upper.size else 0.0
    return median if median > 0 else 1.0


def _squared_distances(z: NDArray[np.float64]) -> NDArray[np.float64]:
    norms = np.einsum("ij,ij->i", z, z)
    sq = norms[:, None] + norms[None, :] - 2.0 * (z @ z.T)
    return np.maximum(sq, 0.0)


def rbf_kernel(z: NDArray[np.float64], bandwidth: float) -> NDArray[np.float64]:
    """``k(a, b) = exp(-|a - b|² / (2 σ²))`` between every pair of rows of ``z``."""
    return np.exp(-_squared_distances(z) / (2.0 * bandwidth * bandwidth))


def mmd2_unbiased(x: object, y: object, bandwidth: float) -> float:
    """The unbiased estimate of MMD² between the rows of ``x`` and ``y`` with an RBF kernel.

    Notes
    -----
    ``MMD²_u = Σ_{i≠j} k(x_i, x_j) / n(n-1) + Σ_{i≠j} k(y_i, y_j) / m(m-1)
    - 2 Σ_{i,j} k(x_i, y_j) / nm`` (Gretton et al. 2012, eq. 3).
    """
    a, b = as_matrix(x, "reference"), as_matrix(y, "current")
    _check_pair(a, b)
    stats = _permutation_statistics(rbf_kernel(np.vstack([a, b]), bandwidth), len(a), None)
    return float(stats[0])


def _permutation_statistics(
    kernel: NDArray[np.float64], n: int, orders: NDArray[np.intp] | None
) -> NDArray[np.float64]:
    """MMD²_u for the split "first ``n`` rows vs the rest" of each row order in ``orders``
    (the identity order when ``None``), computed for all orders with one matrix product."""
    total = len(kernel)
    m = total - n
    masks = np.zeros((total, 1 if orders is None else len(orders)), dtype=np.float64)
    if orders is None:
        masks[:n, 0] = 1.0
    else:
        rows = orders[:, :n]
        masks[rows, np.arange(len(orders))[:, None]] = 1.0
    k_masks = kernel @ masks
    row_sums = kernel.sum(axis=1)
    diagonal = np.diag(kernel)
    sum_xx = np.einsum("ib,ib->b", masks, k_masks)
    sum_xy = np.einsum("ib,ib->b", masks, row_sums[:, None] - k_masks)
    sum_yy = kernel.sum() - sum_xx - 2.0 * sum_xy
    diag_x = diagonal @ masks
    diag_y = diagonal.sum() - diag_x
    return (
        (sum_xx - diag_x) / (n * (n - 1))
        + (sum_yy - diag_y) / (m * (m - 1))
        - 2.0 * sum_xy / (n * m)
    )


def mmd_test(
    reference: object,
    current: object,
    *,
    level: float = 0.05,
    max_samples: int = DEFAULT_MAX_SAMPLES,
    permutations: int | None = None,
    bandwidth: float | None = None,
    seed: int = 0,
) -> MMDResult:
    """Kernel two-sample test of the rows of ``reference`` against those of ``current``.

    Parameters
    ----------
    reference, current
        2-D arrays of vectors (rows with NaN/±inf are dropped).
    level
        The decision level (from the alert budget in the window jobs).
    max_samples
        Rows of each side used at most (a seeded sample beyond it).
    permutations
        Permutations of the null; default ``max(200, ⌈5 / level⌉)`` so that the smallest
        reachable p-value ``1 / (B + 1)`` lies well below ``level``.
    bandwidth
        The RBF kernel's σ; default the median heuristic on the pooled sample.
    seed
        Seeds the sample and the permutations (same inputs, same answer).

    Returns
    -------
    MMDResult
        ``p = (1 + #{b: MMD²_b ≥ MMD²}) / (B + 1)``, a valid permutation p-value.

    References
    ----------
    Gretton, Borgwardt, Rasch, Schölkopf, Smola (2012), "A Kernel Two-Sample Test", JMLR 13.
    """
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1, got {level}")
    rng = np.random.default_rng(seed)
    x = _sample(as_matrix(reference, "reference"), max_samples, rng)
    y = _sample(as_matrix(current, "current"), max_samples, rng)
    _check_pair(x, y)
    pooled = np.vstack([x, y])
    sigma = bandwidth if bandwidth is not None else median_bandwidth(pooled)
    kernel = rbf_kernel(pooled, sigma)
    observed = float(_permutation_statistics(kernel, len(x), None)[0])
    b = permutations if permutations is not None else max(MIN_PERMUTATIONS, math.ceil(5 / level))
    orders = np.argsort(rng.random((b, len(pooled))), axis=1)
    null = _permutation_statistics(kernel, len(x), orders)
    # A relative tolerance so that float noise on ties does not decide.
    exceed = int(np.sum(null >= observed - 1e-12 * max(1.0, abs(observed))))
    p_value = (1 + exceed) / (b + 1)
    return MMDResult(observed, p_value, float(sigma), b, len(x), len(y), level)


def auc_confidence(auc: float, n_pos: int, n_neg: int, level: float) -> tuple[float, float]:
    """The two-sided ``1 - level`` confidence interval of an AUC from the Hanley–McNeil (1982)
    standard error, clipped to [0, 1]."""
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    variance = (
        auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)
    ) / (n_pos * n_neg)
    from scipy import stats as _stats  # only when an embedding is tested

    z = float(_stats.norm.ppf(1.0 - level / 2.0))
    half = z * math.sqrt(max(variance, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def classifier_test(
    reference: object,
    current: object,
    *,
    level: float = 0.05,
    max_samples: int = DEFAULT_MAX_SAMPLES,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
) -> ClassifierResult:
    """Domain-classifier test: a logistic regression learns to tell current rows (label 1)
    from reference rows (label 0); its out-of-fold scores give the ROC AUC.

    Notes
    -----
    The AUC is the Mann–Whitney statistic of the out-of-fold scores, ``U / (n·m)``; the
    p-value is the one-sided Mann–Whitney test of AUC > 0.5 (no drift: the classifier cannot
    do better than chance). Each score comes from a model that did not see its row.

    References
    ----------
    Lipton, Wang, Smola (2018); Rabanser, Günnemann, Lipton (2019), "Failing Loudly".
    Hanley, McNeil (1982), "The meaning and use of the area under a ROC curve".
    """
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1, got {level}")
    require("sklearn", "sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    x = _sample(as_matrix(reference, "reference"), max_samples, rng)
    y = _sample(as_matrix(current, "current"), max_samples, rng)
    _check_pair(x, y)
    k = min(folds, len(x), len(y))
    if k < 2:
        raise InputError("the domain classifier needs at least 2 vectors on each side")
    features = np.vstack([x, y])
    labels = np.r_[np.zeros(len(x)), np.ones(len(y))]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, features, labels, cv=splitter, method="decision_function")
    from scipy import stats as _stats

    test = _stats.mannwhitneyu(scores[len(x) :], scores[: len(x)], alternative="greater")
    auc = float(test.statistic) / (len(x) * len(y))
    low, high = auc_confidence(auc, len(y), len(x), level)
    return ClassifierResult(auc, low, high, float(test.pvalue), k, len(x), len(y), level)


def cosine_distance(reference: object, current: object) -> float:
    """``1 - cos(mean(reference), mean(current))``: 0 for the same direction, up to 2."""
    a = as_matrix(reference, "reference").mean(axis=0)
    b = as_matrix(current, "current").mean(axis=0)
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm == 0.0:
        return 0.0
    return float(1.0 - np.dot(a, b) / norm)


__all__ = [
    "DEFAULT_MAX_SAMPLES",
    "ClassifierResult",
    "MMDResult",
    "as_matrix",
    "auc_confidence",
    "classifier_test",
    "cosine_distance",
    "median_bandwidth",
    "mmd2_unbiased",
    "mmd_test",
    "rbf_kernel",
]
