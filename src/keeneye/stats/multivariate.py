"""Multivariate drift: changes in how features vary *together*, which per-feature tests miss.

Two detectors over a numeric matrix (rows × features; missing values imputed with the
baseline's mean):

* **PCA reconstruction error** (NannyML's "data reconstruction drift"). Fit on the
  standardised baseline a PCA keeping the fewest components that explain ``variance`` (65 %) of
  its variance; a row's error is the Euclidean distance between the standardised row and its
  reconstruction from those components. The window's statistic is the mean error; under no
  drift it is the mean of ``n`` draws from the baseline's row errors, so its band is
  ``μ ± z·σ/√n`` (μ, σ: mean and sd of the baseline's row errors — the band NannyML draws from
  baseline chunks, in closed form) and the one-sided p-value is ``1 − Φ((x̄ − μ)/(σ/√n))``.
* **Domain classifier**: a random forest (scikit-learn) learns to tell window rows from
  baseline rows; the out-of-fold (stratified k-fold) scores give a cross-validated ROC AUC, 0.5
  when the two samples are alike. Its p-value is the one-sided Mann-Whitney test of the
  window's scores above the baseline's (AUC = U / (n₀n₁)), its interval the Hanley–McNeil
  standard error.

Both return a :class:`MultivariateDrift`: statistic, band, p-value, the level used, decision.

References
----------
NannyML, "Data Reconstruction with PCA", https://nannyml.readthedocs.io (2023).
Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a ROC curve.
Radiology 143(1), 29–36.
Lipton, Z., Wang, Y.-X. & Smola, A. (2018). Detecting and correcting for label shift with
black box predictors. ICML (domain classifiers as two-sample tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from keeneye.errors import InputError, require

Floats = npt.NDArray[np.float64]
#: Share of the standardised baseline's variance the kept components explain.
PCA_VARIANCE = 0.65
#: Rows of each sample the domain classifier sees at most (a seeded subsample).
CLASSIFIER_ROWS = 2000
#: Folds of the domain classifier's cross-validation.
FOLDS = 5
METHODS = ("pca_reconstruction", "domain_classifier")


@dataclass(frozen=True)
class MultivariateDrift:
    """One multivariate test of one window.

    ``statistic`` is the mean reconstruction error or the cross-validated AUC; ``expected`` its
    value without drift (the baseline's mean error, or 0.5); ``lower``/``upper`` the band (PCA:
    where the statistic stays without drift at ``alpha``; classifier: the AUC's confidence
    interval); ``drifted`` is ``p_value < alpha``.
    """

    method: str
    statistic: float | None = None
    expected: float | None = None
    lower: float | None = None
    upper: float | None = None
    p_value: float | None = None
    alpha: float | None = None
    drifted: bool | None = None
    n_reference: int = 0
    n_current: int = 0
    components: int | None = None
    features: tuple[str, ...] = ()
    problem: str | None = None


def _impute(matrix: Floats, fill: Floats) -> Floats:
    out = np.array(matrix, dtype=np.float64, copy=True)
    out[~np.isfinite(out)] = np.nan
    rows, cols = np.nonzero(np.isnan(out))
    out[rows, cols] = fill[cols]
    return out


class PCAReconstruction:
    """PCA fitted on a standardised baseline (numpy SVD; no extra needed).

    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=2000)
    >>> base = np.c_[a, a + 0.3 * rng.normal(size=2000)]
    >>> pca = PCAReconstruction.fit(base)
    >>> pca.components
    1
    >>> flipped = np.c_[a, -a + 0.3 * rng.normal(size=2000)]
    >>> pca.score(base[:500], 0.01).drifted, pca.score(flipped[:500], 0.01).drifted
    (False, True)
    """

    def __init__(
        self, mean: Floats, scale: Floats, basis: Floats, errors: Floats, names: tuple[str, ...]
    ) -> None:
        self.mean = mean
        self.scale = scale
        self.basis = basis
        self.components = int(basis.shape[1])
        self.names = names
        self.error_mean = float(errors.mean())
        self.error_sd = float(errors.std(ddof=1))
        self.n_reference = int(errors.size)

    @classmethod
    def fit(
        cls, baseline: Floats, names: tuple[str, ...] = (), variance: float = PCA_VARIANCE
    ) -> PCAReconstruction:
        """Fit on ``baseline`` (rows × features, at least 2 features and 10 rows)."""
        x = np.asarray(baseline, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] < 10:
            raise InputError(
                f"PCA reconstruction needs at least 2 numeric features and 10 baseline rows; "
                f"got a {x.shape} matrix"
            )
        with np.errstate(all="ignore"):
            mean = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=0)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        filled = _impute(x, mean)
        scale = filled.std(axis=0, ddof=1)
        scale = np.where(scale > 0, scale, 1.0)
        z = (filled - mean) / scale
        _, singular, vt = np.linalg.svd(z, full_matrices=False)
        explained = np.cumsum(singular**2) / np.sum(singular**2)
        keep = int(np.searchsorted(explained, variance) + 1)
        keep = min(keep, x.shape[1] - 1)  # all components would reconstruct every row exactly
        basis = vt[:keep].T
        model = cls(mean, scale, basis, np.zeros(2), names)
        errors = model.errors(x)
        return cls(mean, scale, basis, errors, names)

    def errors(self, matrix: Floats) -> Floats:
        """Each row's reconstruction error."""
        z = (_impute(np.asarray(matrix, dtype=np.float64), self.mean) - self.mean) / self.scale
        restored = z @ self.basis @ self.basis.T
        return np.asarray(np.sqrt(np.sum((z - restored) ** 2, axis=1)), dtype=np.float64)

    def score(self, current: Floats, alpha: float) -> MultivariateDrift:
        """The window's mean reconstruction error against the baseline's, at level ``alpha``."""
        errors = self.errors(current)
        n = int(errors.size)
        if n < 2:
            return MultivariateDrift(
                "pca_reconstruction",
                n_reference=self.n_reference,
                n_current=n,
                components=self.components,
                features=self.names,
                problem="fewer than 2 rows",
            )
        mean = float(errors.mean())
        se = self.error_sd / math.sqrt(n)
        z = NormalDist().inv_cdf(1.0 - alpha / 2)
        if se > 0:
            p = 1.0 - NormalDist().cdf((mean - self.error_mean) / se)
        else:
            p = 0.0 if mean > self.error_mean else 1.0
        return MultivariateDrift(
            method="pca_reconstruction",
            statistic=mean,
            expected=self.error_mean,
            lower=self.error_mean - z * se,
            upper=self.error_mean + z * se,
            p_value=float(p),
            alpha=alpha,
            drifted=bool(p < alpha),
            n_reference=self.n_reference,
            n_current=n,
            components=self.components,
            features=self.names,
        )


def auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley–McNeil standard error of an AUC from ``n_pos`` positives and ``n_neg`` negatives."""
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )
    return math.sqrt(max(var, 0.0))


def domain_classifier(
    baseline: Floats,
    current: Floats,
    alpha: float,
    *,
    names: tuple[str, ...] = (),
    seed: int = 0,
    max_rows: int = CLASSIFIER_ROWS,
    folds: int = FOLDS,
) -> MultivariateDrift:
    """Cross-validated AUC of a classifier telling ``current`` rows from ``baseline`` rows."""
    ensemble: Any = require("sklearn.ensemble", "estimate")
    selection: Any = require("sklearn.model_selection", "estimate")
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(seed)
    ref = np.asarray(baseline, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.shape[0] > max_rows:
        ref = ref[np.sort(rng.choice(ref.shape[0], size=max_rows, replace=False))]
    if cur.shape[0] > max_rows:
        cur = cur[np.sort(rng.choice(cur.shape[0], size=max_rows, replace=False))]
    n0, n1 = int(ref.shape[0]), int(cur.shape[0])
    if min(n0, n1) < 2 * folds:
        return MultivariateDrift(
            "domain_classifier",
            n_reference=n0,
            n_current=n1,
            features=names,
            problem=f"fewer than {2 * folds} rows in a sample",
        )
    x = np.vstack([ref, cur])
    x[~np.isfinite(x)] = np.nan  # the trees route missing values themselves
    y = np.r_[np.zeros(n0), np.ones(n1)]
    # A random forest: trees see interactions (a changed correlation) and missing values,
    # and a small forest fits in a fraction of a second on one core.
    model = ensemble.RandomForestClassifier(
        n_estimators=60, max_depth=8, min_samples_leaf=5, n_jobs=1, random_state=seed
    )
    cv = selection.StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = selection.cross_val_predict(model, x, y, cv=cv, method="predict_proba")[:, 1]
    test = mannwhitneyu(scores[y == 1], scores[y == 0], alternative="greater")
    auc = float(test.statistic) / (n0 * n1)
    se = auc_standard_error(auc, n1, n0)
    z = NormalDist().inv_cdf(1.0 - alpha / 2)
    p = float(test.pvalue)
    return MultivariateDrift(
        method="domain_classifier",
        statistic=auc,
        expected=0.5,
        lower=max(0.0, auc - z * se),
        upper=min(1.0, auc + z * se),
        p_value=p,
        alpha=alpha,
        drifted=bool(p < alpha),
        n_reference=n0,
        n_current=n1,
        features=names,
    )


__all__ = [
    "CLASSIFIER_ROWS",
    "METHODS",
    "PCA_VARIANCE",
    "MultivariateDrift",
    "PCAReconstruction",
    "auc_standard_error",
    "domain_classifier",
]
