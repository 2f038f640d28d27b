"""The statistics job's computations for one window: traffic, per-feature summaries and data
quality, prediction and latency summaries, and (once labels land) performance, prediction bias
and label coverage/delay. Each function turns window rows into a typed report section."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from keeneye.analysis import performance as perf
from keeneye.analysis.absent import absent_features
from keeneye.analysis.columns import column_kinds, to_columns
from keeneye.analysis.drift import with_reference_columns
from keeneye.analysis.reference import PREDICTION_COLUMN, Reference
from keeneye.kinds import numeric, numeric_family
from keeneye.profile._codec import decode
from keeneye.profile.reference import with_nulls
from keeneye.profile.report import (
    NOT_INVALID_MARKERS,
    BiasStats,
    LabelDelay,
    PerformanceSection,
    PerformanceStats,
    SummarySection,
)
from keeneye.report.charts import baseline_grid, grid_counts
from keeneye.schema import FeatureKind
from keeneye.stats import check_quality, summarize
from keeneye.stats._parallel import map_columns
from keeneye.stats.results import json_safe
from keeneye.tables import type_family


def rows_of_version(table: pa.Table, events: pa.Table, version: str) -> tuple[pa.Table, pa.Table]:
    """The feature and event rows of one version (rows are aligned)."""
    column = events.column("version")
    mask = pc.equal(column, version)
    if column.null_count == 0 and pc.all(mask).as_py() is True:
        return table, events  # one version (the usual case): no copy of the window
    return table.filter(mask), events.filter(mask)


def epoch_seconds(column: pa.ChunkedArray) -> np.ndarray:
    """Timestamps as float epoch seconds (NaN for nulls)."""
    micros = pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")), pa.int64())
    values = micros.to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64) / 1e6


def summary_section(
    features: pa.Table,
    events: pa.Table,
    invalid: Mapping[str, Mapping[str, int]],
    reference: Reference | None,
) -> SummarySection:
    """Per-feature summaries and quality, prediction and latency summaries of one version's
    rows. Feature kinds come from the baseline when there is one (as in ``keeneye.compare``),
    else from the window's own columns."""
    n = events.num_rows
    absent = (
        absent_features(features, set(reference.tested) - reference.derived, invalid)
        if reference is not None
        else []
    )
    if reference is not None:
        # Text, image and embedding columns are summarised through their descriptors.
        features = reference.expand(with_reference_columns(features, reference))
    known = (
        {n: k for n, k in reference.kinds.items() if n not in reference.counted}
        if reference is not None
        else {}
    )
    # The window holds a column for every feature of the model; one that this version never
    # sent (all null, no invalid marker) and that its baseline lacks is not this version's.
    features = features.select(
        [
            name
            for name in features.column_names
            if name in known
            or name in invalid
            or features.column(name).null_count < features.num_rows
        ]
    )
    kinds = dict(known)
    # the window's own kinds only for the columns the baseline does not know (inferring a
    # string column's kind is a hash pass over it)
    others = [name for name in features.column_names if name not in kinds]
    kinds.update(column_kinds(features.select(others)))
    columns, problems = to_columns(features, kinds)

    def entry_of(name: str) -> dict[str, Any]:
        kind = kinds[name]
        markers = invalid.get(name, {})
        wrong = int(sum(v for k, v in markers.items() if k not in NOT_INVALID_MARKERS))
        nulls = features.column(name).null_count if name in features.column_names else n
        entry: dict[str, Any] = {
            "kind": None if kind is None else kind.value,
            "missing_ratio": (nulls - wrong) / n if n else None,
            "invalid": dict(markers),
            "invalid_ratio": wrong / n if n else None,
        }
        if name in problems:
            entry["problem"] = problems[name]
        if name in absent:
            # Not sent at all: a schema change, not a missing share (no quality row either).
            entry.update(absent=True, missing_ratio=None, invalid_ratio=None)
            entry.pop("problem", None)
            return entry
        if name in columns and kind is not None:
            # Summaries and quality exactly as keeneye.compare reports them (nulls counted as
            # missing, not as NaN), against the baseline's summary when there is one.
            values = columns[name]
            base = reference.summaries.get(name) if reference is not None else None
            if base is not None and base.kind is kind:
                # Type markers are stored as missing values; they are counted as invalid (and
                # wrong-typed in the findings), so that the missing share, the invalid count
                # and the findings of a quality row agree.
                quality = check_quality(base, values, wrong_type=wrong)
                current = with_nulls(quality.current, max(nulls - wrong, 0))
                quality = replace(quality, current=current)
                entry["summary"] = current.to_dict()
                entry["quality"] = {k: v for k, v in quality.to_dict().items() if k != "current"}
                entry["missing_ratio"] = quality.missing_share_current
                entry["baseline_missing_ratio"] = quality.missing_share_reference
                entry["out_of_range_ratio"] = quality.out_of_range_share
                entry["new_categories"] = dict(quality.to_dict()["new_categories"])
            else:
                summary = with_nulls(summarize(values, kind), nulls)
                entry["summary"] = summary.to_dict()
                entry["missing_ratio"] = max(0.0, summary.missing_share - wrong / n) if n else None
        return entry

    # one column per thread (the numeric summaries sort; numpy releases the GIL meanwhile)
    names = sorted(kinds)
    out = dict(zip(names, map_columns(entry_of, names, n * len(names)), strict=True))
    payload = {
        "events": n,
        "absent_features": absent,
        "features": out,
        "prediction": prediction_summary(events, reference),
        "latency": latency_summary(events),
    }
    return decode(SummarySection, json_safe(payload))


def prediction_summary(events: pa.Table, reference: Reference | None = None) -> dict[str, Any]:
    """Summary of the prediction column; non-finite numeric predictions are counted. Numeric
    predictions are also counted in the bins shared with the baseline's predictions, so that
    pages draw a range's predictions from the stored windows (no raw event read)."""
    column = events.column("prediction")
    n = events.num_rows
    missing = column.null_count
    family = type_family(column.type)
    if family != "null" and numeric_family(family):  # the kinds table's numeric types
        values = np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), np.float64)
        nonfinite = int(np.sum(~np.isfinite(values))) - missing
        return {
            "kind": "numeric",
            "missing": missing,
            "nonfinite": nonfinite,
            "summary": summarize(values, FeatureKind.NUMERIC).to_dict(),
            "histogram": _prediction_bins(values, reference),
        }
    strings = column.cast(pa.string()) if not pa.types.is_null(column.type) else column
    objects = np.asarray(strings.to_numpy(zero_copy_only=False), dtype=object)
    return {
        "kind": "categorical",
        "missing": missing,
        "nonfinite": 0,
        "summary": summarize(objects, FeatureKind.CATEGORICAL).to_dict() if n else None,
    }


def _prediction_bins(values: np.ndarray, reference: Reference | None) -> dict[str, Any] | None:
    """The window's finite predictions counted on the grid of the baseline's (numeric)
    predictions (:func:`keeneye.report.charts.baseline_grid`); ``None`` without one."""
    fitted = reference.prediction if reference is not None else None
    base = fitted.summaries.get(PREDICTION_COLUMN) if fitted is not None else None
    if base is None or not numeric(base.kind):
        return None
    grid = baseline_grid(base)
    return None if grid is None else asdict(grid_counts(values, *grid))


def latency_summary(events: pa.Table) -> dict[str, Any] | None:
    """Count, mean and quantiles of the reported latencies (``None`` when none reported)."""
    values = np.asarray(
        events.column("latency_seconds").cast(pa.float64()).to_numpy(zero_copy_only=False),
        dtype=np.float64,
    )
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    p50, p90, p99 = np.quantile(values, [0.5, 0.9, 0.99])
    return {
        "count": int(values.size),
        "mean_seconds": float(values.mean()),
        "p50_seconds": float(p50),
        "p90_seconds": float(p90),
        "p99_seconds": float(p99),
        "max_seconds": float(values.max()),
    }


def performance_section(
    events: pa.Table, *, task: str = "auto", positive_class: str | None = None
) -> PerformanceSection:
    """Label coverage and delay, and — over the labelled rows — performance and bias."""
    n = events.num_rows
    labelled_mask = pc.is_valid(events.column("label"))
    labelled = events.filter(labelled_mask)
    m = labelled.num_rows
    delays = perf.label_delays(
        epoch_seconds(labelled.column("timestamp")),
        epoch_seconds(labelled.column("label_timestamp")),
    )
    section = PerformanceSection(
        events=n,
        labels=m,
        label_coverage=m / n if n else None,
        label_delay=decode(LabelDelay, json_safe(delays)),
    )
    if m == 0:
        return section
    labels = labelled.column("label")
    preds = labelled.column("prediction")
    chosen = _infer_task(preds, labels) if task == "auto" else task
    metrics: perf.RegressionMetrics | perf.ClassificationMetrics
    if chosen == "regression":
        y = _floats(labels, strings=False)
        p = _floats(preds, strings=True)
        metrics = perf.regression_metrics(y, p)
        bias = perf.regression_bias(y, p)
    else:
        y_true = class_codes(labels)
        scores = _binary_scores(preds, y_true)
        if scores is None:
            scores = _probability_scores(labelled, positive_class or "1", y_true.objects())
            y_pred = class_codes(preds)
        else:
            # The logged score is the positive class's probability: classes at 0.5.
            cut = np.where(np.isfinite(scores), (scores >= 0.5).astype(np.int64), -1)
            y_pred = perf.Classes(cut, ("0", "1"))
        metrics = perf.classification_metrics_of(
            y_true, y_pred, scores=scores, positive_class=positive_class
        )
        bias = (
            perf.probability_bias_of(y_true, scores, positive_class or "1")
            if scores is not None
            else perf.classification_bias(y_true.objects(), y_pred.objects(), positive_class)
        )
    return replace(
        section,
        task=chosen,
        performance=decode(PerformanceStats, json_safe(metrics.to_dict())),
        bias=None if bias is None else decode(BiasStats, json_safe(bias.to_dict())),
    )


def class_codes(column: pa.ChunkedArray) -> perf.Classes:
    """``Classes.of(class_labels(column.to_pylist()))``, naming each distinct value once."""
    array = column.combine_chunks()
    if pa.types.is_null(array.type) or pa.types.is_dictionary(array.type):
        return perf.Classes.of(perf.class_labels(array.to_pylist()))
    encoded = pc.dictionary_encode(array)
    names = perf.class_labels(encoded.dictionary.to_pylist())
    index: dict[str, int] = {}
    # entry of the dictionary -> class code; the trailing -1 is for missing values
    entry = np.array(
        [*(-1 if n is None else index.setdefault(n, len(index)) for n in names), -1],
        dtype=np.int64,
    )
    rows = encoded.indices.fill_null(len(names)).to_numpy(zero_copy_only=False)
    return perf.Classes(entry[rows], tuple(index))


def _numbers(column: pa.ChunkedArray) -> bool:
    t = column.type
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _floats(column: pa.ChunkedArray, *, strings: bool) -> np.ndarray:
    """The values as float64, NaN for missing ones (and for strings when ``strings``: a
    prediction that is not a number), as ``float(v)`` of each value gives them."""
    if _numbers(column):
        values = pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64)
    return np.asarray(
        [
            np.nan if v is None or (strings and isinstance(v, str)) else float(v)
            for v in column.to_pylist()
        ],
        dtype=np.float64,
    )


def _infer_task(preds: pa.ChunkedArray, labels: pa.ChunkedArray) -> str:
    """``perf.infer_task`` of the columns, without a Python object per row for typed ones."""
    if _text_or_flags(labels):
        return "classification"  # strings and booleans (or no label at all)
    if _numbers(labels):
        return perf.infer_task_of(_floats(labels, strings=False))
    return perf.infer_task(preds.to_pylist(), labels.to_pylist())


def _binary_scores(preds: pa.ChunkedArray, y_true: perf.Classes) -> np.ndarray | None:
    """``perf.binary_scores`` of the prediction column against coded labels."""
    counts = np.bincount(y_true.codes + 1, minlength=len(y_true.names) + 1)[1:]
    present = {name for name, count in zip(y_true.names, counts, strict=True) if count}
    if not present <= {"0", "1"}:
        return None
    if _numbers(preds):
        return perf.probability_scores(_floats(preds, strings=True))
    return perf.binary_scores(preds.to_pylist(), y_true.objects())


class LabelledRows:
    """The metrics of subsets of one table of labelled events, as :func:`performance_section`
    computes them on the subset's rows, from columns converted once.

    The expected ranges (:mod:`keeneye.analysis.expected`) compute the metrics of 60 random
    chunks of a baseline; taking each chunk through Arrow and coding its classes again cost
    most of a large window's analysis. Here the labels are coded and the predictions
    converted once, and a chunk is a numpy index. The same decisions are taken per chunk (task,
    probability scores) with the same functions. ``coded`` is false for the tables this does
    not cover (a ``probabilities`` column, labels or predictions of other types): their chunks
    go through :func:`performance_section`.
    """

    def __init__(self, events: pa.Table, *, task: str, positive_class: str | None) -> None:
        self.task = task
        self.positive_class = positive_class
        labels, preds = events.column("label"), events.column("prediction")
        self._labels, self._preds = labels, preds
        text = _text_or_flags(labels)
        self.coded = (
            "probabilities" not in events.column_names
            and _numbers(preds)
            and (_numbers(labels) or (text and task != "regression"))
        )
        self._valid = np.asarray(pc.is_valid(labels).to_numpy(zero_copy_only=False), dtype=bool)
        self._all_valid = labels.null_count == 0
        self._label_floats = _floats(labels, strings=False) if _numbers(labels) else None
        self._pred_floats = _floats(preds, strings=True)
        # A task inferred as classification on all the rows is that of every subset (integral
        # labels with few distinct values stay so); regression is inferred again per subset.
        whole = self._label_floats
        if text or (
            task == "auto"
            and whole is not None
            and perf.infer_task_of(whole[self._valid]) == "classification"
        ):
            self._whole_task: str | None = "classification"
        else:
            self._whole_task = None
        self._label_codes: perf.Classes | None = None
        self._pred_codes: perf.Classes | None = None

    def metrics(self, rows: np.ndarray) -> Mapping[str, float | None]:
        """``performance_section(events.take(rows), ...).metrics`` (``coded`` tables only)."""
        labelled = rows if self._all_valid else rows[self._valid[rows]]
        if labelled.size == 0:
            return {}
        chosen = self.task
        if chosen == "auto":
            chosen = self._whole_task or perf.infer_task_of(self._floats_of_labels()[labelled])
        metrics: perf.RegressionMetrics | perf.ClassificationMetrics
        if chosen == "regression":
            y = self._floats_of_labels()[labelled]
            metrics = perf.regression_metrics(y, self._pred_floats[labelled])
        else:
            codes = self._classes_of_labels()
            y_true = perf.Classes(codes.codes[labelled], codes.names)
            counts = np.bincount(y_true.codes + 1, minlength=len(y_true.names) + 1)[1:]
            present = {name for name, count in zip(y_true.names, counts, strict=True) if count}
            scores = None
            if present <= {"0", "1"}:
                scores = perf.probability_scores(self._pred_floats[labelled])
            if scores is None:
                predicted = self._classes_of_predictions()
                y_pred = perf.Classes(predicted.codes[labelled], predicted.names)
            else:
                cut = np.where(np.isfinite(scores), (scores >= 0.5).astype(np.int64), -1)
                y_pred = perf.Classes(cut, ("0", "1"))
            metrics = perf.classification_metrics_of(
                y_true, y_pred, scores=scores, positive_class=self.positive_class
            )
        return dict(json_safe(metrics.metrics()))

    def _floats_of_labels(self) -> np.ndarray:
        if self._label_floats is None:
            self._label_floats = _floats(self._labels, strings=False)
        return self._label_floats

    def _classes_of_labels(self) -> perf.Classes:
        if self._label_codes is None:
            self._label_codes = class_codes(self._labels)
        return self._label_codes

    def _classes_of_predictions(self) -> perf.Classes:
        if self._pred_codes is None:
            self._pred_codes = class_codes(self._preds)
        return self._pred_codes


def _text_or_flags(column: pa.ChunkedArray) -> bool:
    t = column.type
    return pa.types.is_boolean(t) or pa.types.is_string(t) or pa.types.is_large_string(t)


def _probability_scores(labelled: pa.Table, positive: str, y_true: np.ndarray) -> np.ndarray | None:
    """The positive class's probability from logged ``probabilities`` (binary tasks only)."""
    if "probabilities" not in labelled.column_names or len({*y_true} - {None}) > 2:
        return None
    scores = np.full(labelled.num_rows, np.nan)
    found = False
    for i, raw in enumerate(labelled.column("probabilities").to_pylist()):
        if raw is None:
            continue
        probs = json.loads(raw) if isinstance(raw, str) else raw
        if isinstance(probs, Mapping) and probs.get(positive) is not None:
            scores[i] = float(probs[positive])
            found = True
        elif isinstance(probs, list) and len(probs) == 2 and positive in ("1", "True"):
            # A list of two probabilities is [P(0), P(1)], as scikit-learn's predict_proba.
            scores[i] = float(probs[1])
            found = True
    return scores if found else None
