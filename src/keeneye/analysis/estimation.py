"""Performance estimated without labels, per window: the stats job's ``estimated`` result.

At the first window of a baseline the estimator is fitted on the baseline's labelled rows —
CBPE (:mod:`keeneye.stats.cbpe`) for classifiers, whose baseline carries the model's scores
(``score`` for the positive class, or ``score_<class>`` per class: see
:mod:`keeneye.analysis.scores`), DLE (:mod:`keeneye.stats.dle`) for regressors, whose loss model
reads the baseline's numeric features and prediction. Every window then gets the estimated
metrics with a sampling-error band (the larger of the sd over baseline chunks of the window's
size and the sd the window's own rows imply: accuracy, MAE, RMSE), the baseline's range for that
size (the alert limit), and — once labels land — the realized value over the
labelled rows and the estimate's error against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from keeneye.analysis import performance as perf
from keeneye.analysis.multivariate import numeric_features
from keeneye.analysis.scores import SCORE_COLUMN, SCORE_PREFIX, positive_of, score_table
from keeneye.errors import InputError
from keeneye.profile.reference import PREDICTION_COLUMN, TARGET_COLUMNS
from keeneye.profile.report import EstimatedMetric, EstimatedSection
from keeneye.schema import FeatureKind
from keeneye.stats.cbpe import CBPE, CLASSIFIER_METRICS, SamplingError, bands, sampling_error
from keeneye.stats.dle import DLE, REGRESSOR_METRICS, realized_regression

Floats = npt.NDArray[np.float64]
#: Losses: their baseline range is an upper limit.
LOWER_IS_BETTER = REGRESSOR_METRICS


def enabled(models: Sequence[str], model: str) -> bool:
    """Whether a per-model list setting (``'*'`` = every model) names ``model``."""
    return "*" in models or model in models


def _floats(column: pa.ChunkedArray | pa.Array) -> Floats:
    values = column.to_pylist()
    return np.asarray(
        [np.nan if v is None or isinstance(v, str | bool) else float(v) for v in values],
        dtype=np.float64,
    )


@dataclass
class Estimator:
    """A fitted CBPE or DLE with the baseline arrays its sampling errors are drawn from."""

    method: str
    task: str
    cbpe: CBPE | None = None
    dle: DLE | None = None
    score_columns: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    positive_class: str | None = None
    baseline: Mapping[str, Any] = field(default_factory=dict)
    _errors: dict[int, SamplingError] = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[str, ...]:
        return CLASSIFIER_METRICS if self.method == "cbpe" else REGRESSOR_METRICS

    def sampling(self, n: int) -> SamplingError:
        """The metrics' sampling error on baseline chunks of ``n`` rows (two significant
        digits of ``n``: one computation serves windows of similar size)."""
        n = max(2, int(float(f"{n:.2g}")))
        cached = self._errors.get(n)
        if cached is None:
            b = self.baseline
            if self.cbpe is not None:
                model = self.cbpe

                def metric_of(take: npt.NDArray[np.int64]) -> dict[str, float | None]:
                    return model.realized(b["scores"][take], b["predicted"][take], b["truth"][take])
            else:

                def metric_of(take: npt.NDArray[np.int64]) -> dict[str, float | None]:
                    return realized_regression(b["y_true"][take], b["y_pred"][take])

            cached = sampling_error(int(b["rows"]), n, metric_of)
            self._errors[n] = cached
        return cached

    # -- window inputs ----------------------------------------------------------------------
    def class_scores(self, columns: Mapping[str, pa.ChunkedArray | pa.Array]) -> Floats:
        """``(n, k)`` probabilities of the classes from the score columns (NaN where missing)."""
        cols = [_floats(columns[name]) for name in self.score_columns]
        if len(cols) == 1:  # the positive class's probability of a binary classifier
            return np.c_[1.0 - cols[0], cols[0]]
        return np.column_stack(cols)

    def class_index(self, values: Sequence[Any], scores: Floats) -> npt.NDArray[np.int64]:
        """Predicted class indices: the logged class when it is one, else the top score."""
        assert self.cbpe is not None
        lookup = {c: i for i, c in enumerate(self.cbpe.classes)}
        names = perf.class_labels(values)
        top = np.argmax(np.nan_to_num(scores, nan=-1.0), axis=1)
        index = [
            lookup.get(str(n), int(t)) if n is not None else int(t)
            for n, t in zip(names, top, strict=True)
        ]
        return np.asarray(index, dtype=np.int64)

    def feature_matrix(self, table: pa.Table) -> Floats:
        n = table.num_rows
        cols = [
            _floats(table.column(f)) if f in table.column_names else np.full(n, np.nan)
            for f in self.features
        ]
        return np.column_stack(cols) if cols else np.empty((n, 0))


def fit_estimator(
    baseline: pa.Table,
    kinds: Mapping[str, FeatureKind | None],
    *,
    task: str = "auto",
    positive_class: str | None = None,
    seed: int = 0,
) -> Estimator | None:
    """CBPE or DLE fitted on a baseline table (``None`` when it has no labels or predictions,
    or a classifier's baseline has no score columns)."""
    target = next((c for c in baseline.column_names if c in TARGET_COLUMNS), None)
    if target is None or PREDICTION_COLUMN not in baseline.column_names:
        return None
    labelled = baseline.filter(pc.is_valid(baseline.column(target)))
    if labelled.num_rows < 50:
        return None
    labels = labelled.column(target).to_pylist()
    preds = labelled.column(PREDICTION_COLUMN).to_pylist()
    chosen = perf.infer_task(preds, labels) if task == "auto" else task
    if chosen == "regression":
        features = numeric_features(kinds)
        y_true, y_pred = _floats(labelled.column(target)), _floats(labelled.column("prediction"))
        estimator = Estimator("dle", "regression", features=features)
        x = estimator.feature_matrix(labelled)
        estimator.dle = DLE.fit(x, y_pred, y_true, seed=seed)
        keep = np.isfinite(y_true) & np.isfinite(y_pred)
        estimator.baseline = {
            "rows": int(keep.sum()),
            "y_true": y_true[keep],
            "y_pred": y_pred[keep],
        }
        return estimator
    truth_names = perf.class_labels(labels)
    classes = sorted({str(v) for v in truth_names if v is not None})
    columns = baseline.column_names
    if SCORE_COLUMN in columns and len(classes) == 2:
        positive = positive_of(classes, positive_class)
        if positive is None:
            return None
        classes = [c for c in classes if c != positive] + [positive]
        score_columns: tuple[str, ...] = (SCORE_COLUMN,)
    else:
        per_class = sorted(c[len(SCORE_PREFIX) :] for c in columns if c.startswith(SCORE_PREFIX))
        if len(per_class) < 2:
            return None
        classes = per_class
        score_columns = tuple(SCORE_PREFIX + c for c in classes)
        positive = classes[-1] if len(classes) == 2 else None
    estimator = Estimator(
        "cbpe", "classification", score_columns=score_columns, positive_class=positive
    )
    scores = estimator.class_scores({c: labelled.column(c) for c in score_columns})
    lookup = {c: i for i, c in enumerate(classes)}
    known = np.asarray([v in lookup for v in truth_names]) & np.all(np.isfinite(scores), axis=1)
    if known.sum() < 50:
        return None
    try:
        estimator.cbpe = CBPE.fit(scores[known], truth_names[known], classes)
    except InputError:
        return None
    truth = np.asarray([lookup[v] for v in truth_names[known]], dtype=np.int64)
    predicted = estimator.class_index(
        np.asarray(preds, dtype=object)[known].tolist(), scores[known]
    )
    estimator.baseline = {
        "rows": int(known.sum()),
        "scores": scores[known],
        "predicted": predicted,
        "truth": truth,
    }
    return estimator


def estimated_section(
    estimator: Estimator,
    features: pa.Table,
    events: pa.Table,
    level: float,
    positive_class: str | None = None,
) -> EstimatedSection:
    """The window's estimated metrics (all rows) and — over its labelled rows — the realized
    ones. ``level`` is the window's family-wise level, shared by the metrics (Bonferroni)."""
    z = NormalDist().inv_cdf(1.0 - level / len(estimator.metrics))
    base = EstimatedSection(method=estimator.method, task=estimator.task, level=level, z=z)
    labels = events.column("label")
    if estimator.dle is not None:
        y_pred = _floats(events.column("prediction"))
        keep = np.isfinite(y_pred)
        rows = int(keep.sum())
        if rows < 2:
            return _problem(base, rows, "fewer than 2 finite predictions")
        x = estimator.feature_matrix(features)
        estimates = estimator.dle.estimate(x[keep], y_pred[keep])
        conditional = estimator.dle.conditional_sd(x[keep], y_pred[keep])
        y_true = _floats(labels)
        realized = realized_regression(y_true[keep], y_pred[keep])
        n_labels = int(np.sum(keep & np.isfinite(y_true)))
    else:
        assert estimator.cbpe is not None
        columns = {
            name: features.column(name)
            for name in estimator.score_columns
            if name in features.column_names
        }
        if len(columns) < len(estimator.score_columns):
            columns = dict(score_table(events, estimator.score_columns, positive_class))
        if len(columns) < len(estimator.score_columns):
            return _problem(base, 0, "the window logged no probabilities")
        scores = estimator.class_scores(columns)
        keep = np.all(np.isfinite(scores), axis=1)
        rows = int(keep.sum())
        if rows < 2:
            return _problem(base, rows, "fewer than 2 rows with logged probabilities")
        scores = scores[keep]
        predicted = estimator.class_index(
            np.asarray(events.column("prediction").to_pylist(), dtype=object)[keep].tolist(),
            scores,
        )
        estimates = estimator.cbpe.estimate(scores, predicted)
        conditional = estimator.cbpe.conditional_sd(scores, predicted)
        truth_names = perf.class_labels(np.asarray(labels.to_pylist(), dtype=object)[keep])
        lookup = {c: i for i, c in enumerate(estimator.cbpe.classes)}
        known = np.asarray([v in lookup for v in truth_names], dtype=bool)
        n_labels = int(known.sum())
        realized = dict.fromkeys(estimator.metrics)
        if n_labels:
            truth = np.asarray([lookup[v] for v in truth_names[known]], dtype=np.int64)
            realized = estimator.cbpe.realized(scores[known], predicted[known], truth)
    error = estimator.sampling(rows)
    out: dict[str, EstimatedMetric] = {}
    for metric, band in bands(estimates, error, z, LOWER_IS_BETTER).items():
        real = realized.get(metric) if n_labels else None
        # The band: the larger of the baseline chunks' sd and the sd these rows imply.
        wider = conditional.get(metric)
        if band.value is not None and wider is not None and (band.sd is None or wider > band.sd):
            band = replace(
                band, sd=wider, lower=band.value - z * wider, upper=band.value + z * wider
            )
        out[metric] = EstimatedMetric(
            value=band.value,
            sd=band.sd,
            lower=band.lower,
            upper=band.upper,
            baseline_mean=band.baseline_mean,
            baseline_low=band.baseline_low,
            baseline_high=band.baseline_high,
            realized=real,
            error=None if real is None or band.value is None else band.value - real,
        )
    return EstimatedSection(
        method=estimator.method,
        task=estimator.task,
        rows=rows,
        labels=n_labels,
        level=level,
        z=z,
        metrics=out,
    )


def _problem(base: EstimatedSection, rows: int, why: str) -> EstimatedSection:
    return EstimatedSection(
        method=base.method, task=base.task, rows=rows, level=base.level, z=base.z, problem=why
    )


__all__ = ["Estimator", "enabled", "estimated_section", "fit_estimator"]
