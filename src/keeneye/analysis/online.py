"""Online change detectors per window: the stats job's ``online`` result.

The configured streams of a model (``analysis.online``): ``error`` — each labelled
prediction's error in time order (0/1 misclassification for a classifier, ``|y − ŷ|`` for a
regressor) —, ``score`` (the positive class's probability) and numeric features by name. Each
detector (:mod:`keeneye.stats.online`) is warmed up on the same stream of the baseline and then
fed the window's rows in time order; the rows where it signalled are reported with their time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from keeneye.analysis import performance as perf
from keeneye.analysis.expected import labelled_baseline
from keeneye.profile.report import OnlineSection
from keeneye.stats.online import OnlineResult, detect

Floats = npt.NDArray[np.float64]
ERROR_STREAM = "error"


def _floats(values: Sequence[object]) -> Floats:
    return np.asarray(
        [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
         for v in values],
        dtype=np.float64,
    )  # fmt: skip


def errors(predictions: Sequence[object], labels: Sequence[object], task: str) -> Floats:
    """Per-prediction errors: 0/1 misclassification, or the absolute error of a regressor."""
    chosen = perf.infer_task(list(predictions), list(labels)) if task == "auto" else task
    if chosen == "regression":
        return np.abs(_floats(labels) - _floats(predictions))
    truth = perf.class_labels(list(labels))
    scores = perf.binary_scores(list(predictions), truth)
    if scores is not None:  # a probability logged as the prediction: classes at 0.5
        predicted = perf.class_labels(
            [None if not np.isfinite(v) else int(v >= 0.5) for v in scores]
        )
    else:
        predicted = perf.class_labels(list(predictions))
    return np.asarray(
        [np.nan if t is None or p is None else float(t != p)
         for t, p in zip(truth, predicted, strict=True)],
        dtype=np.float64,
    )  # fmt: skip


def baseline_streams(baseline: pa.Table, sources: Sequence[str], task: str) -> Mapping[str, Floats]:
    """Each source's stream over the baseline (sources it cannot give are left out)."""
    out: dict[str, Floats] = {}
    for source in sources:
        if source == ERROR_STREAM:
            events = labelled_baseline(baseline)
            if events is not None:
                out[source] = errors(
                    events.column("prediction").to_pylist(),
                    events.column("label").to_pylist(),
                    task,
                )
        elif source in baseline.column_names:
            out[source] = _floats(baseline.column(source).to_pylist())
    return out


def online_section(
    warm: Mapping[str, Floats],
    sources: Sequence[str],
    methods: Sequence[str],
    features: pa.Table,
    events: pa.Table,
    task: str,
) -> OnlineSection:
    """The detectors over the window's streams, in time order."""
    order = pc.sort_indices(events, sort_keys=[("timestamp", "ascending")])
    events = events.take(order)
    features = features.take(order)
    stamps = [t.isoformat() for t in events.column("timestamp").to_pylist()]
    results: list[OnlineResult] = []
    for source in sources:
        base = warm.get(source)
        if source == ERROR_STREAM:
            labelled = pc.is_valid(events.column("label"))
            rows = events.filter(labelled)
            times = [t.isoformat() for t in rows.column("timestamp").to_pylist()]
            stream = errors(
                rows.column("prediction").to_pylist(), rows.column("label").to_pylist(), task
            )
        else:
            # (the score is among the features: the job appends the baseline's score columns)
            column = source if source in features.column_names else None
            times = stamps
            stream = (
                _floats(features.column(column).to_pylist()) if column is not None else np.empty(0)
            )
        for method in methods:
            if base is None:
                results.append(
                    OnlineResult(method, source, problem=f"the baseline has no {source!r} stream")
                )
                continue
            found = detect(method, base, stream, name=source)
            at = tuple(times[i] for i in found.detections if i < len(times))
            results.append(
                OnlineResult(
                    method=found.method,
                    stream=source,
                    n=found.n,
                    warmup=found.warmup,
                    detections=found.detections,
                    detected_at=at,
                    parameters=found.parameters,
                    problem=found.problem,
                )
            )
    return OnlineSection(results=tuple(results))


__all__ = ["ERROR_STREAM", "baseline_streams", "errors", "online_section"]
