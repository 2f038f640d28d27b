"""Model performance once ground truth has landed: classification and regression metrics,
prediction bias and label coverage/delay. Pure functions over numpy arrays.

The formulas follow scikit-learn's conventions (zero division → 0, macro averages over the
classes seen in labels or predictions, probabilities clipped to machine epsilon in log loss),
and ``tests/analysis/test_performance.py`` checks them against scikit-learn.

Why not call ``sklearn.metrics``: it is the bottleneck. The expected-performance rule computes
every metric on 60 chunks of the baseline per labelled window; ``benchmarks/
performance_metrics.py`` measured (2026-12-07, 1,000 rows, a loaded 2-core machine) 0.41 ms
per classification call here against 101 ms for the same numbers from scikit-learn (×247: its
input validation of string labels dominates), and 0.034 ms against 1.06 ms for regression
(×31). scikit-learn stays the reference the tests compare with, and an optional extra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Task = Literal["classification", "regression"]

_EPS = float(np.finfo(np.float64).eps)
#: At most this many distinct integer labels still make a classification task under ``auto``.
_MAX_INTEGER_CLASSES = 20


def class_labels(values: Sequence[Any] | npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    """Class names as strings so that labels and predictions compare whatever their JSON type:
    integral numbers lose their ``.0`` (``1.0`` and ``1`` are the same class), ``None`` stays.

    >>> class_labels([1, 1.0, "yes", True, None]).tolist()
    ['1', '1', 'yes', 'True', None]
    """
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out[i] = None
        elif isinstance(value, bool | np.bool_):
            out[i] = str(bool(value))
        elif isinstance(value, int | np.integer) or _integral_float(value):
            out[i] = str(int(value))
        else:
            out[i] = str(value)
    return out


@dataclass(frozen=True)
class Classes:
    """Class names as integer codes: row ``i`` is class ``names[codes[i]]``, or has none when
    ``codes[i]`` is −1. The metrics then count with integer arrays instead of comparing a
    Python object per row (a window's labels are a few distinct values repeated).

    >>> c = Classes.of(["b", None, "a", "b"])
    >>> c.codes.tolist(), c.names
    ([0, -1, 1, 0], ('b', 'a'))
    """

    codes: npt.NDArray[np.int64]
    names: tuple[Any, ...]

    @classmethod
    def of(cls, values: Sequence[Any] | npt.NDArray[Any]) -> Classes:
        """The codes of ``values`` as given (``None`` is no class), names in order of appearance."""
        index: dict[Any, int] = {}
        codes = np.fromiter(
            (-1 if v is None else index.setdefault(v, len(index)) for v in values),
            dtype=np.int64,
            count=len(values),
        )
        return cls(codes, tuple(index))

    def objects(self) -> npt.NDArray[np.object_]:
        """The class of each row as an object array (``None`` for no class)."""
        lookup = np.empty(len(self.names) + 1, dtype=object)
        lookup[: len(self.names)] = self.names
        return lookup[self.codes]  # code −1 takes the trailing None

    def code(self, name: Any) -> int:
        """The code of class ``name`` (−1 when no row has it)."""
        return self.names.index(name) if name in self.names else -1

    def with_names(self, names: tuple[Any, ...]) -> Classes:
        """The same rows coded against ``names``, which must hold every name of this one."""
        if names == self.names:
            return self
        position = {name: i for i, name in enumerate(names)}
        remap = np.array([*(position[n] for n in self.names), -1], dtype=np.int64)
        return Classes(remap[self.codes], names)


def unify(a: Classes, b: Classes) -> tuple[Classes, Classes]:
    """``a`` and ``b`` coded against one list of names (``a``'s, then ``b``'s new ones)."""
    names = tuple(dict.fromkeys((*a.names, *b.names)))
    return a.with_names(names), b.with_names(names)


def infer_task(predictions: Sequence[Any], labels: Sequence[Any]) -> Task:
    """Guess the task from the values: strings or booleans, or a few integer classes, make a
    classification; anything else numeric is a regression.

    >>> infer_task([0.2, 0.9], [0, 1])
    'classification'
    >>> infer_task([3.5, 7.1], [3.0, 8.25])
    'regression'
    """
    seen = [v for v in labels if v is not None and not _is_nan(v)]
    if not seen:
        return "classification"
    if any(isinstance(v, str | bool | np.bool_) for v in seen):
        return "classification"
    return infer_task_of(np.asarray(seen, dtype=np.float64))


def infer_task_of(labels: npt.NDArray[np.float64]) -> Task:
    """:func:`infer_task` of numeric labels (NaN: no label).

    >>> infer_task_of(np.array([0.0, 1.0, np.nan]))
    'classification'
    """
    numbers = labels[~np.isnan(labels)]
    if numbers.size == 0:
        return "classification"
    finite = numbers[np.isfinite(numbers)]
    integral = bool(np.all(finite == np.round(finite)))
    if integral and len(np.unique(finite)) <= _MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"


def binary_scores(
    predictions: Sequence[Any], labels: npt.NDArray[np.object_]
) -> npt.NDArray[np.float64] | None:
    """Scores of the positive class when a binary classifier logs its probability as the
    prediction (numbers in [0, 1], not all 0/1, with labels '0'/'1'); else ``None``."""
    classes = {v for v in labels if v is not None}
    if not classes <= {"0", "1"}:
        return None
    try:
        values = np.asarray(
            [np.nan if v is None or isinstance(v, str | bool) else float(v) for v in predictions],
            dtype=np.float64,
        )
    except (TypeError, ValueError):
        return None
    return probability_scores(values)


def probability_scores(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
    """``values`` when they read as probabilities of a binary classifier's positive class
    (finite ones in [0, 1], not all 0/1; NaN: none logged), else ``None``."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.min() < 0 or finite.max() > 1 or np.all(np.isin(finite, (0, 1))):
        return None
    return values


@dataclass(frozen=True)
class ClassificationMetrics:
    """Classification performance over the labelled rows of a window."""

    n: int
    classes: tuple[str, ...]
    positive_class: str | None
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    log_loss: float | None
    confusion_matrix: tuple[tuple[int, ...], ...]
    average: str

    def metrics(self) -> dict[str, float]:
        """The scalar metrics (the ones exported as ``keeneye_model_performance{metric}``)."""
        out = {
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }
        if self.roc_auc is not None:
            out["roc_auc"] = self.roc_auc
        if self.log_loss is not None:
            out["log_loss"] = self.log_loss
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "classification",
            "n": self.n,
            "classes": list(self.classes),
            "positive_class": self.positive_class,
            "average": self.average,
            "metrics": self.metrics(),
            "confusion_matrix": {
                "labels": list(self.classes),
                "matrix": [list(row) for row in self.confusion_matrix],
            },
        }


def classification_metrics(
    y_true: Sequence[Any] | npt.NDArray[Any],
    y_pred: Sequence[Any] | npt.NDArray[Any],
    *,
    scores: npt.NDArray[np.float64] | None = None,
    positive_class: str | None = None,
) -> ClassificationMetrics:
    """Accuracy, precision, recall, F1, ROC AUC, log loss and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred
        Class names (see :func:`class_labels`); rows where either is missing are left out.
    scores
        Probability of the positive class per row (binary tasks only); gives ROC AUC and log loss.
    positive_class
        The positive class of a binary task; default ``"1"`` when the classes are 0/1, else the
        last class in sorted order. With more than two classes the averages are macro averages.

    >>> m = classification_metrics(["1", "0", "1", "1"], ["1", "0", "0", "1"])
    >>> m.accuracy, round(m.recall, 4), m.precision
    (0.75, 0.6667, 1.0)
    """
    truth = np.asarray(y_true, dtype=object)
    pred = np.asarray(y_pred, dtype=object)
    if truth.shape != pred.shape:
        raise ValueError(f"y_true has {truth.size} rows but y_pred has {pred.size}")
    return classification_metrics_of(
        Classes.of(truth), Classes.of(pred), scores=scores, positive_class=positive_class
    )


def classification_metrics_of(
    y_true: Classes,
    y_pred: Classes,
    *,
    scores: npt.NDArray[np.float64] | None = None,
    positive_class: str | None = None,
) -> ClassificationMetrics:
    """:func:`classification_metrics` of coded classes (the same numbers, counted on integer
    codes).

    >>> m = classification_metrics_of(Classes.of(["1", "0", "1"]), Classes.of(["1", "1", None]))
    >>> m.n, m.accuracy, m.confusion_matrix
    (2, 0.5, ((0, 1), (0, 1)))
    """
    truth_all, pred_all = unify(y_true, y_pred)
    if truth_all.codes.shape != pred_all.codes.shape:
        raise ValueError(
            f"y_true has {truth_all.codes.size} rows but y_pred has {pred_all.codes.size}"
        )
    keep = (truth_all.codes >= 0) & (pred_all.codes >= 0)
    truth, pred = truth_all.codes, pred_all.codes
    score = None if scores is None else np.asarray(scores, dtype=np.float64)
    if not keep.all():
        truth, pred = truth[keep], pred[keep]
        score = None if score is None else score[keep]
    names = truth_all.names
    present = np.flatnonzero(np.bincount(np.concatenate([truth, pred]), minlength=len(names)) > 0)
    classes = tuple(sorted(names[c] for c in present))
    n = int(truth.size)
    index = {c: i for i, c in enumerate(classes)}
    # code -> row/column of the matrix
    position = np.full(len(names), -1, dtype=np.int64)
    for c in present:
        position[c] = index[names[c]]
    k = len(classes)
    truth, pred = position[truth], position[pred]
    matrix = np.bincount(truth * k + pred, minlength=k * k).astype(np.int64).reshape(k, k)
    accuracy = float(np.trace(matrix) / n) if n else float("nan")
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    actual = matrix.sum(axis=1).astype(np.float64)
    precision_c = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall_c = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision_c + recall_c
    f1_c = np.divide(2 * precision_c * recall_c, denom, out=np.zeros_like(tp), where=denom > 0)

    positive: str | None = None
    binary = len(classes) <= 2 and n > 0
    if binary:
        positive = positive_class or ("1" if set(classes) <= {"0", "1"} else classes[-1])
    if binary and positive in index:
        k = index[positive]
        precision, recall, f1 = float(precision_c[k]), float(recall_c[k]), float(f1_c[k])
        average = "binary"
    elif binary:  # the positive class never occurs: nothing was predicted or found positive
        precision = recall = f1 = 0.0
        average = "binary"
    else:
        precision, recall, f1 = (
            float(np.mean(a)) if a.size else float("nan") for a in (precision_c, recall_c, f1_c)
        )
        average = "macro"

    roc_auc = log_loss = None
    if score is not None and binary and positive is not None:
        finite = np.isfinite(score)
        y = (truth[finite] == index.get(positive, -1)).astype(np.float64)
        s = score[finite]
        if y.size and 0 < y.sum() < y.size:
            roc_auc = roc_auc_score(y, s)
        if y.size:
            clipped = np.clip(s, _EPS, 1 - _EPS)
            log_loss = float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)))
    return ClassificationMetrics(
        n=n,
        classes=classes,
        positive_class=positive,
        accuracy=accuracy,
        precision=precision,
        recall=recall,
        f1=f1,
        roc_auc=roc_auc,
        log_loss=log_loss,
        confusion_matrix=tuple(tuple(int(v) for v in row) for row in matrix),
        average=average,
    )


def roc_auc_score(y: npt.NDArray[np.float64], scores: npt.NDArray[np.float64]) -> float:
    """Area under the ROC curve of 0/1 targets ``y`` by the Mann-Whitney rank formula.

    Notes
    -----
    ``AUC = (R₊ − n₊(n₊+1)/2) / (n₊ n₋)`` with ``R₊`` the sum of the (tie-averaged) ranks of the
    positives; equal to the trapezoidal area under the ROC curve.

    >>> roc_auc_score(np.array([0., 0., 1., 1.]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    ranks = average_ranks(scores)
    n_pos = float(y.sum())
    n_neg = float(y.size - n_pos)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """1-based ranks of ``values`` (no NaN), ties given their average rank: scipy's
    ``rankdata(values)``, equal to the bit (half-integers are exact). Values already in order
    (the expected ranges' chunks) are ranked without sorting.

    >>> average_ranks(np.array([0.5, 0.1, 0.5, 0.7])).tolist()
    [2.5, 1.0, 2.5, 4.0]
    """
    n = values.size
    if n == 0:
        return np.empty(0, dtype=np.float64)
    ordered = bool(np.all(values[1:] >= values[:-1]))
    order = None if ordered else np.argsort(values, kind="stable")
    sorted_values = values if order is None else values[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], n)
    # a tie group holds ranks start+1 … end: its average is (start + end + 1) / 2
    in_order = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    if order is None:
        return in_order
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = in_order
    return ranks


@dataclass(frozen=True)
class RegressionMetrics:
    """Regression performance over the labelled rows of a window (finite pairs only)."""

    n: int
    nonfinite: int
    mae: float
    rmse: float
    mape: float
    r2: float
    mean_error: float

    def metrics(self) -> dict[str, float]:
        return {
            "mae": self.mae,
            "rmse": self.rmse,
            "mape": self.mape,
            "r2": self.r2,
            "mean_error": self.mean_error,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": "regression",
            "n": self.n,
            "nonfinite_pairs": self.nonfinite,
            "metrics": self.metrics(),
        }


def regression_metrics(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> RegressionMetrics:
    """MAE, RMSE, MAPE, R² and mean error (prediction − label) over the finite pairs.

    Notes
    -----
    MAPE divides by ``max(|y|, ε)`` and R² is 1 for a perfect fit of constant labels, 0 for an
    imperfect one (scikit-learn's conventions).

    >>> m = regression_metrics([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0])
    >>> m.mae, round(m.r2, 6), m.mean_error
    (0.5, 0.948608, 0.25)
    """
    truth = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    finite = np.isfinite(truth) & np.isfinite(pred)
    nonfinite = int(truth.size - finite.sum())
    truth, pred = truth[finite], pred[finite]
    n = int(truth.size)
    if n == 0:
        nan = float("nan")
        return RegressionMetrics(0, nonfinite, nan, nan, nan, nan, nan)
    error = pred - truth
    ss_res = float(np.sum(error**2))
    ss_tot = float(np.sum((truth - truth.mean()) ** 2))
    # Constant labels: a perfect fit scores 1, anything else 0 (scikit-learn's convention).
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float(ss_res == 0)
    return RegressionMetrics(
        n=n,
        nonfinite=nonfinite,
        mae=float(np.mean(np.abs(error))),
        rmse=float(np.sqrt(np.mean(error**2))),
        mape=float(np.mean(np.abs(error) / np.maximum(np.abs(truth), _EPS))),
        r2=r2,
        mean_error=float(np.mean(error)),
    )


@dataclass(frozen=True)
class PredictionBias:
    """How far predictions lean from what was observed.

    ``value`` is the bias exported as ``keeneye_prediction_bias``: for a classifier the
    predicted share minus the observed share of the positive class (binary) or of the class with
    the largest gap (multiclass); for a regressor the mean prediction minus the mean label.
    ``normalized`` is what the alert rule compares: the share gap itself for a classifier, the
    mean error in label standard deviations for a regressor (``None`` for constant labels).
    """

    value: float
    normalized: float | None
    subject: str | None
    predicted: dict[str, float] = field(default_factory=dict)
    observed: dict[str, float] = field(default_factory=dict)
    #: ``"calibration"`` (mean probability vs observed rate), ``"class_share"`` (hard
    #: predictions) or ``"mean"`` (regression).
    method: str = "class_share"
    #: Sampling error of ``value`` when predictions are unbiased, and ``value`` over it.
    standard_error: float | None = None
    z: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "normalized": self.normalized,
            "subject": self.subject,
            "predicted": self.predicted,
            "observed": self.observed,
            "method": self.method,
            "standard_error": self.standard_error,
            "z": self.z,
        }


def probability_bias(
    y_true: npt.NDArray[np.object_],
    scores: npt.NDArray[np.float64],
    positive_class: str = "1",
) -> PredictionBias | None:
    """Calibration-in-the-large of a probabilistic binary classifier: the mean predicted
    probability of the positive class minus the observed positive rate, over rows with both.

    With calibrated probabilities each label is Bernoulli(pᵢ), so the gap
    ``mean(p) − mean(y)`` has mean 0 and standard error ``sqrt(Σ pᵢ(1 − pᵢ)) / n``; ``z`` is
    the gap over it. Cutting the probabilities at 0.5 and comparing class shares instead
    flags well-calibrated models whose scores are not near 0 or 1.

    >>> y = np.array(["1", "0", "0", "1"], dtype=object)
    >>> b = probability_bias(y, np.array([0.9, 0.2, 0.4, 0.7]))
    >>> round(b.value, 3), round(b.standard_error, 4), round(b.z, 3)
    (0.05, 0.2092, 0.239)
    """
    return probability_bias_of(Classes.of(y_true), scores, positive_class)


def probability_bias_of(
    y_true: Classes, scores: npt.NDArray[np.float64], positive_class: str = "1"
) -> PredictionBias | None:
    """:func:`probability_bias` of coded classes."""
    keep = (y_true.codes >= 0) & np.isfinite(scores)
    p = scores[keep]
    if p.size == 0:
        return None
    y = (y_true.codes[keep] == y_true.code(positive_class)).astype(np.float64)
    gap = float(p.mean() - y.mean())
    variance = float(np.sum(p * (1.0 - p)))
    se = math.sqrt(variance) / p.size if variance > 0 else None
    z = None if se is None else gap / se
    return PredictionBias(
        value=gap,
        normalized=gap,
        subject=positive_class,
        predicted={"mean_probability": float(p.mean())},
        observed={"positive_rate": float(y.mean())},
        method="calibration",
        standard_error=se,
        z=z,
    )


def classification_bias(
    y_true: npt.NDArray[np.object_],
    y_pred: npt.NDArray[np.object_],
    positive_class: str | None = None,
) -> PredictionBias | None:
    """Predicted vs observed class distribution over rows that have both.

    >>> b = classification_bias(np.array(["1", "0", "0", "0"], dtype=object),
    ...                         np.array(["1", "1", "1", "0"], dtype=object), "1")
    >>> b.value, b.predicted, b.observed
    (0.5, {'0': 0.25, '1': 0.75}, {'0': 0.75, '1': 0.25})
    """
    keep = np.array(
        [t is not None and p is not None for t, p in zip(y_true, y_pred, strict=True)], dtype=bool
    )
    truth, pred = y_true[keep], y_pred[keep]
    if truth.size == 0:
        return None
    classes = sorted({*truth.tolist(), *pred.tolist()})
    predicted = {c: float(np.mean(pred == c)) for c in classes}
    observed = {c: float(np.mean(truth == c)) for c in classes}
    if len(classes) <= 2:
        subject = positive_class or ("1" if set(classes) <= {"0", "1"} else classes[-1])
    else:
        subject = max(classes, key=lambda c: abs(predicted[c] - observed[c]))
    gap = predicted.get(subject, 0.0) - observed.get(subject, 0.0)
    return PredictionBias(gap, gap, subject, predicted, observed)


def regression_bias(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> PredictionBias | None:
    """Mean prediction minus mean label over the finite pairs.

    >>> regression_bias([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]).value
    1.0
    """
    truth = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    finite = np.isfinite(truth) & np.isfinite(pred)
    if not finite.any():
        return None
    truth, pred = truth[finite], pred[finite]
    value = float(pred.mean() - truth.mean())
    spread = float(truth.std())
    normalized = value / spread if spread > 0 else None
    return PredictionBias(
        value,
        normalized,
        None,
        {"mean": float(pred.mean())},
        {"mean": float(truth.mean())},
        method="mean",
    )


def label_delays(
    event_times: npt.NDArray[np.float64], label_times: npt.NDArray[np.float64]
) -> dict[str, float | None]:
    """Median, 90th percentile and largest label delay in seconds (epoch-second inputs; NaN for
    events without a label).

    >>> label_delays(np.array([0., 0., 0.]), np.array([10., 30., np.nan]))
    {'median_seconds': 20.0, 'p90_seconds': 28.0, 'max_seconds': 30.0}
    """
    delay = label_times - event_times
    delay = delay[np.isfinite(delay)]
    if delay.size == 0:
        return {"median_seconds": None, "p90_seconds": None, "max_seconds": None}
    return {
        "median_seconds": float(np.median(delay)),
        "p90_seconds": float(np.quantile(delay, 0.9)),
        "max_seconds": float(delay.max()),
    }


def _integral_float(value: Any) -> bool:
    return isinstance(value, float | np.floating) and float(value).is_integer()


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
