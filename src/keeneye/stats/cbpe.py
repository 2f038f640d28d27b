"""Confidence-based performance estimation (CBPE): a classifier's performance on rows without
labels, from its own (calibrated) probabilities.

Fit once on a labelled baseline: each class's probability is calibrated against the labels
by isotonic regression (scikit-learn; one-vs-rest and renormalised for more than two classes),
so ``p̂ᵢ = P(yᵢ = c | score)``. On a window the expected confusion matrix follows from the
calibrated probabilities and the predicted classes, and with it every metric:

* binary: ``TP = Σ p̂ᵢ·ŷᵢ``, ``FP = Σ (1−p̂ᵢ)·ŷᵢ``, ``FN = Σ p̂ᵢ·(1−ŷᵢ)``,
  ``TN = Σ (1−p̂ᵢ)(1−ŷᵢ)``; accuracy ``(TP+TN)/n``, precision ``TP/(TP+FP)``, recall
  ``TP/(TP+FN)``, F1 ``2TP/(2TP+FP+FN)``; ROC AUC is the area under the *expected* ROC curve
  (rows sorted by score, ``TPR(t) = Σ_{sᵢ≥t} p̂ᵢ / Σ p̂ᵢ``, ``FPR(t)`` likewise with ``1−p̂ᵢ``);
* multiclass: accuracy ``mean(p̂ᵢ[ŷᵢ])``; precision, recall, F1 and ROC AUC are the macro
  averages of the one-vs-rest binary estimates.

The estimate is unbiased as long as the calibration holds, i.e. under covariate shift (the
inputs move, ``P(y | x)`` does not); a concept shift is what the estimate's error, once the
labels arrive, reveals. The sampling-error band of a window of ``n`` rows is the standard
deviation of the realized metric over random chunks of ``n`` baseline rows (NannyML's
"sampling error").

References
----------
NannyML, "Confidence-based Performance Estimation", https://nannyml.readthedocs.io (2023).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from keeneye.errors import InputError, require

#: Metrics estimated for a classifier, in display order.
CLASSIFIER_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
#: Random chunks of the baseline drawn for a sampling-error band.
CHUNKS = 60

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


def expected_roc_auc(score: Floats, p: Floats) -> float | None:
    """Area under the expected ROC curve of ``score`` when row ``i`` is positive with
    probability ``p[i]`` (ties of ``score`` form one step, as in the realized curve)."""
    total_pos = float(p.sum())
    total_neg = float((1.0 - p).sum())
    if score.size == 0 or total_pos <= 0 or total_neg <= 0:
        return None
    order = np.argsort(-score, kind="mergesort")
    s, pp = score[order], p[order]
    last = np.r_[s[1:] != s[:-1], True]
    tpr = np.r_[0.0, np.cumsum(pp)[last] / total_pos]
    fpr = np.r_[0.0, np.cumsum(1.0 - pp)[last] / total_neg]
    return float(np.trapezoid(tpr, fpr))


def realized_roc_auc(score: Floats, y: Floats) -> float | None:
    """ROC AUC of 0/1 targets ``y`` (Mann-Whitney, tie-averaged ranks); ``None`` for one class."""
    from scipy.stats import rankdata

    n_pos = float(y.sum())
    n_neg = float(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _binary_metrics(
    score: Floats, positive: Floats, predicted: Floats, *, expected: bool
) -> dict[str, float | None]:
    """``positive``: calibrated probabilities (expected) or 0/1 truths (realized)."""
    n = predicted.size
    tp = float(np.sum(positive * predicted))
    fp = float(np.sum((1.0 - positive) * predicted))
    fn = float(np.sum(positive * (1.0 - predicted)))
    tn = float(n - tp - fp - fn)
    auc = expected_roc_auc(score, positive) if expected else realized_roc_auc(score, positive)
    return {
        "accuracy": _ratio(tp + tn, n),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": auc,
    }


def classifier_metrics(
    scores: Floats, positive: Floats, predicted: Ints, *, expected: bool
) -> dict[str, float | None]:
    """Accuracy, precision, recall, F1 and ROC AUC (binary: of the last class; multiclass: macro
    one-vs-rest), expected from calibrated probabilities or realized from one-hot truths.

    Parameters
    ----------
    scores
        ``(n, k)`` the model's raw probabilities (rank the rows for ROC AUC).
    positive
        ``(n, k)`` calibrated probabilities (``expected=True``) or one-hot truths.
    predicted
        ``(n,)`` index of the predicted class.
    """
    n, k = scores.shape
    if n == 0:
        return dict.fromkeys(CLASSIFIER_METRICS, None)
    if k == 2:
        hit = (predicted == 1).astype(np.float64)
        return _binary_metrics(scores[:, 1], positive[:, 1], hit, expected=expected)
    per_class = [
        _binary_metrics(
            scores[:, c], positive[:, c], (predicted == c).astype(np.float64), expected=expected
        )
        for c in range(k)
    ]
    out: dict[str, float | None] = {"accuracy": float(np.mean(positive[np.arange(n), predicted]))}
    for metric in ("precision", "recall", "f1", "roc_auc"):
        values = [v for m in per_class if (v := m[metric]) is not None]
        out[metric] = float(np.mean(values)) if values else None
    return out


@dataclass(frozen=True)
class MetricBand:
    """One estimated metric of a window: the estimate, its sampling-error band
    ``estimate ± z·sd`` and the baseline's range for this many rows (``low`` for metrics where
    higher is better, ``high`` for losses)."""

    value: float | None
    sd: float | None
    lower: float | None
    upper: float | None
    baseline_mean: float | None = None
    baseline_low: float | None = None
    baseline_high: float | None = None


@dataclass(frozen=True)
class SamplingError:
    """Mean and standard deviation of each metric over random baseline chunks of ``n`` rows."""

    n: int
    chunks: int
    mean: Mapping[str, float]
    sd: Mapping[str, float]


def sampling_error(
    rows: int,
    n: int,
    metric_of: Any,
    *,
    chunks: int = CHUNKS,
    seed: int = 0,
) -> SamplingError:
    """Each metric's mean and sd over ``chunks`` random chunks of ``n`` of ``rows`` baseline rows
    (without replacement when the baseline holds two chunks, else a bootstrap);
    ``metric_of(indices) -> {metric: value}``."""
    rng = np.random.default_rng(seed)
    values: dict[str, list[float]] = {}
    replace = rows < 2 * n
    for _ in range(chunks):
        take = rng.choice(rows, size=n, replace=replace)
        for metric, value in metric_of(take).items():
            if value is not None and np.isfinite(value):
                values.setdefault(metric, []).append(float(value))
    mean = {m: float(np.mean(v)) for m, v in values.items() if len(v) > 2}
    sd = {m: float(np.std(v, ddof=1)) for m, v in values.items() if len(v) > 2}
    return SamplingError(n=n, chunks=chunks, mean=mean, sd=sd)


def bands(
    estimates: Mapping[str, float | None],
    error: SamplingError,
    z: float,
    lower_is_better: Sequence[str] = (),
) -> dict[str, MetricBand]:
    """Each estimate with its band ``± z·sd`` and the baseline's one-sided range at ``z``."""
    out: dict[str, MetricBand] = {}
    for metric, value in estimates.items():
        sd = error.sd.get(metric)
        mean = error.mean.get(metric)
        lower = upper = low = high = None
        if value is not None and sd is not None:
            lower, upper = value - z * sd, value + z * sd
        if mean is not None and sd is not None:
            if metric in lower_is_better:
                high = mean + z * sd
            else:
                low = mean - z * sd
        out[metric] = MetricBand(value, sd, lower, upper, mean, low, high)
    return out


class CBPE:
    """A classifier's probabilities calibrated on a labelled baseline.

    >>> rng = np.random.default_rng(0)
    >>> s = rng.uniform(size=4000)
    >>> y = (rng.uniform(size=4000) < s).astype(int).astype(str)
    >>> model = CBPE.fit(np.c_[1 - s, s], y, ("0", "1"))
    >>> est = model.estimate(np.c_[1 - s, s], (s > 0.5).astype(int))
    >>> round(est["accuracy"], 2)
    0.75
    """

    def __init__(self, classes: tuple[str, ...], calibrators: Sequence[Any]) -> None:
        self.classes = classes
        self._calibrators = tuple(calibrators)

    @classmethod
    def fit(cls, scores: Floats, labels: npt.NDArray[Any], classes: Sequence[str]) -> CBPE:
        """Calibrate ``scores`` (``(n, k)`` probabilities of ``classes``) on ``labels``."""
        isotonic: Any = require("sklearn.isotonic", "estimate")
        classes = tuple(str(c) for c in classes)
        scores = np.asarray(scores, dtype=np.float64)
        if len(classes) < 2 or scores.ndim != 2 or scores.shape[1] != len(classes):
            raise InputError(
                f"CBPE needs one probability column per class; got {scores.shape} for "
                f"{len(classes)} classes {list(classes)[:5]}"
            )
        truth = np.asarray([str(v) for v in labels], dtype=object)
        seen = set(truth.tolist())
        if len(seen & set(classes)) < 2:
            raise InputError(
                f"CBPE needs baseline labels of at least two of the classes {list(classes)}; "
                f"the baseline's labels are {sorted(seen)[:5]}"
            )
        columns = range(1, 2) if len(classes) == 2 else range(len(classes))
        calibrators = []
        for c in columns:
            model = isotonic.IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            model.fit(scores[:, c], (truth == classes[c]).astype(np.float64))
            calibrators.append(model)
        return cls(classes, calibrators)

    def calibrated(self, scores: Floats) -> Floats:
        """``(n, k)`` calibrated probabilities (rows sum to 1)."""
        if len(self.classes) == 2:
            p = np.clip(self._calibrators[0].predict(scores[:, 1]), 0.0, 1.0)
            return np.c_[1.0 - p, p]
        p = np.column_stack([m.predict(scores[:, c]) for c, m in enumerate(self._calibrators)])
        total = p.sum(axis=1, keepdims=True)
        even = np.full_like(p, 1.0 / p.shape[1])
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), even)

    def estimate(self, scores: Floats, predicted: Ints) -> dict[str, float | None]:
        """The expected metrics of rows with ``scores`` and ``predicted`` class indices."""
        return classifier_metrics(scores, self.calibrated(scores), predicted, expected=True)

    def conditional_sd(self, scores: Floats, predicted: Ints) -> dict[str, float]:
        """The sampling sd of the accuracy on these very rows: each row is correct with its
        calibrated probability ``qᵢ`` independently (a Poisson-binomial count), so
        ``sd = sqrt(Σ qᵢ(1 − qᵢ)) / n`` — wider than baseline chunks give when the inputs
        moved to where the model is unsure."""
        n = predicted.size
        if n == 0:
            return {}
        q = self.calibrated(scores)[np.arange(n), predicted]
        return {"accuracy": float(np.sqrt(np.sum(q * (1.0 - q))) / n)}

    def realized(self, scores: Floats, predicted: Ints, truth: Ints) -> dict[str, float | None]:
        """The metrics the same formulas give with the true class indices."""
        onehot = np.zeros_like(scores)
        onehot[np.arange(truth.size), truth] = 1.0
        return classifier_metrics(scores, onehot, predicted, expected=False)


__all__ = [
    "CBPE",
    "CHUNKS",
    "CLASSIFIER_METRICS",
    "MetricBand",
    "SamplingError",
    "bands",
    "classifier_metrics",
    "expected_roc_auc",
    "realized_roc_auc",
    "sampling_error",
]
