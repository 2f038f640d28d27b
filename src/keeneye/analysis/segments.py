"""Segments: drift, summaries and performance per value of configured columns (a country, a
plan) — the stats job's ``segments`` result.

Segments are fixed per baseline: for each configured column, its ``top_k`` most frequent
values with at least ``min_size`` baseline rows, and ``other`` for the rest. Each segment gets
its own reference, fitted on the baseline's rows of that segment, so a segment is compared with
itself (a country whose users are older is not drift). In a window every segment with at least
``min_size`` rows is tested at its share of the window's alert budget: the segment family's
level is split evenly between the segments (Bonferroni), and Holm's correction runs within a
segment's features. Performance per segment is compared with the same segment in the baseline:
accuracy in binomial standard errors (classification), MAE in standard errors of the mean
absolute error (regression).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from keeneye.analysis import performance as perf
from keeneye.analysis.drift import with_reference_columns
from keeneye.analysis.expected import labelled_baseline
from keeneye.analysis.reference import build_reference
from keeneye.analysis.scores import class_labels
from keeneye.config import AnalysisSettings
from keeneye.profile.reference import PREDICTION_COLUMN, CompareOptions, Reference
from keeneye.profile.report import SegmentColumn, SegmentsSection, SegmentStats
from keeneye.schema import FeatureKind
from keeneye.stats import DriftOptions

#: The segment of every value outside a column's top values.
OTHER = "other"


def segment_labels(column: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """A column's values as segment names (``1`` and ``1.0`` are one segment)."""
    return list(perf.class_labels(column.to_pylist()))


@dataclass(frozen=True)
class Segment:
    """One segment's baseline: its fitted reference and performance."""

    name: str
    reference: Reference
    rows: int
    share: float
    metric: str | None = None
    performance: float | None = None
    loss_sd: float | None = None

    @property
    def tests(self) -> int:
        return len(self.reference.tested) + (self.reference.prediction is not None)


@dataclass(frozen=True)
class SegmentPlan:
    column: str
    values: tuple[str, ...]
    segments: tuple[Segment, ...]

    def name_of(self, value: str | None) -> str:
        return value if value is not None and value in self.values else OTHER


@dataclass(frozen=True)
class SegmentModel:
    """The segments of a baseline, by configured column."""

    plans: tuple[SegmentPlan, ...] = ()
    missing: tuple[str, ...] = field(default=())

    @property
    def tests(self) -> int:
        """Drift tests per window (every segment's features and prediction)."""
        return sum(s.tests for p in self.plans for s in p.segments)

    @property
    def segments(self) -> int:
        return sum(len(p.segments) for p in self.plans)


def _performance(
    events: pa.Table | None, task: str, positive_class: str | None
) -> tuple[str | None, float | None, float | None]:
    """(metric, value, sd of the absolute error for regression) over labelled rows."""
    from keeneye.analysis.statistics import performance_section

    if events is None or events.num_rows == 0:
        return None, None, None
    section = performance_section(events, task=task, positive_class=positive_class)
    if section.task == "regression" or (
        section.performance and section.performance.task == "regression"
    ):
        y = np.asarray(
            [np.nan if v is None else float(v) for v in events.column("label").to_pylist()]
        )
        p = np.asarray(
            [np.nan if v is None or isinstance(v, str) else float(v)
             for v in events.column("prediction").to_pylist()]
        )  # fmt: skip
        error = np.abs(y - p)[np.isfinite(y - p)]
        sd = float(error.std(ddof=1)) if error.size > 1 else None
        return "mae", section.metrics.get("mae"), sd
    return "accuracy", section.metrics.get("accuracy"), None


def fit_segments(
    baseline: pa.Table,
    columns: Sequence[str],
    *,
    top_k: int,
    min_size: int,
    task: str = "auto",
    positive_class: str | None = None,
) -> SegmentModel:
    """The segments of ``columns`` in ``baseline`` with their references and performance."""
    plans: list[SegmentPlan] = []
    missing = [c for c in columns if c not in baseline.column_names]
    n = baseline.num_rows
    drop = [c for c in columns if c in baseline.column_names]
    for column in columns:
        if column not in baseline.column_names:
            continue
        labels = segment_labels(baseline.column(column))
        counts = Counter(v for v in labels if v is not None)
        values = tuple(v for v, c in counts.most_common(top_k) if c >= min_size and v != OTHER)
        names = np.asarray([v if v in values else OTHER for v in labels], dtype=object)
        segments: list[Segment] = []
        for name in (*values, OTHER):
            mask = pa.array(names == name)
            rows = baseline.filter(mask)
            if rows.num_rows < min_size:
                continue
            reference = build_reference(rows.drop_columns(drop))
            metric, value, sd = _performance(labelled_baseline(rows), task, positive_class)
            segments.append(
                Segment(name, reference, rows.num_rows, rows.num_rows / n, metric, value, sd)
            )
        plans.append(SegmentPlan(column, values, tuple(segments)))
    return SegmentModel(tuple(plans), tuple(missing))


def _with_prediction(table: pa.Table, events: pa.Table, reference: Reference) -> pa.Table:
    if reference.prediction is None or PREDICTION_COLUMN in table.column_names:
        return table
    predicted = events.column("prediction")
    if reference.prediction.kinds.get(PREDICTION_COLUMN) is FeatureKind.CATEGORICAL:
        predicted = pa.chunked_array([class_labels(predicted)], type=pa.string())
    return table.append_column(PREDICTION_COLUMN, predicted)


def segments_section(
    model: SegmentModel,
    features: pa.Table,
    events: pa.Table,
    level: float,
    settings: AnalysisSettings,
    *,
    task: str = "auto",
    positive_class: str | None = None,
) -> SegmentsSection:
    """Every segment of the window: rows, shares, mean prediction, drift against the same
    segment of the baseline (at ``level`` / segments), performance against the baseline's."""
    per_segment = level / max(model.segments, 1)
    z_crit = NormalDist().inv_cdf(1.0 - per_segment)
    n = features.num_rows
    columns: list[SegmentColumn] = []
    for plan in model.plans:
        if plan.column in features.column_names:
            labels = segment_labels(features.column(plan.column))
        else:
            labels = [None] * n
        names = np.asarray([plan.name_of(v) for v in labels], dtype=object)
        stats: list[SegmentStats] = []
        for segment in plan.segments:
            mask = pa.array(names == segment.name)
            rows, evs = features.filter(mask), events.filter(mask)
            out = SegmentStats(
                value=segment.name,
                rows=rows.num_rows,
                share=rows.num_rows / n if n else None,
                baseline_rows=segment.rows,
                baseline_share=segment.share,
                level=per_segment,
                metric=segment.metric,
                baseline_performance=segment.performance,
            )
            predictions = [
                float(v) for v in evs.column("prediction").to_pylist()
                if isinstance(v, int | float) and not isinstance(v, bool)
            ]  # fmt: skip
            if predictions:
                out = _replace(out, mean_prediction=float(np.mean(predictions)))
            if rows.num_rows < settings.segment_min_size:
                stats.append(_replace(out, problem=f"fewer than {settings.segment_min_size} rows"))
                continue
            table = with_reference_columns(rows, segment.reference)
            table = _with_prediction(table, evs, segment.reference)
            options = CompareOptions(
                drift=DriftOptions(alpha=per_segment, correction=settings.correction),
                methods=dict(settings.drift_methods or {}),
                thresholds=dict(settings.drift_thresholds or {}),
                reference_features_only=True,
                check_types=False,
            )
            drift = segment.reference.compare(table, options).drift
            if drift is not None:
                drifted = tuple(
                    f.feature for f in drift.rows() if (f.drifted_adjusted is True)
                    or (f.drifted_adjusted is None and f.drifted)
                )  # fmt: skip
                out = _replace(out, n_tested=drift.n_tested, drifted=drifted)
            labelled = evs.filter(pc.is_valid(evs.column("label")))
            out = _replace(out, labels=labelled.num_rows)
            if labelled.num_rows >= 2:
                metric, value, _ = _performance(labelled, task, positive_class)
                z = _z(metric, value, segment, labelled.num_rows)
                drop = z is not None and (z < -z_crit if metric == "accuracy" else z > z_crit)
                out = _replace(
                    out, metric=metric, performance=value, performance_z=z, performance_drop=drop
                )
            stats.append(out)
        columns.append(SegmentColumn(plan.column, tuple(stats)))
    return SegmentsSection(columns=tuple(columns), tests=model.tests)


def _z(metric: str | None, value: float | None, segment: Segment, n: int) -> float | None:
    base = segment.performance
    if value is None or base is None or metric != segment.metric:
        return None
    if metric == "accuracy":
        se = float(np.sqrt(max(base * (1 - base), 1e-12) / n))
    elif segment.loss_sd is not None:
        se = segment.loss_sd / float(np.sqrt(n))
    else:
        return None
    return (value - base) / se if se > 0 else None


def _replace(stats: SegmentStats, **changes: object) -> SegmentStats:
    from dataclasses import replace

    return replace(stats, **changes)  # type: ignore[arg-type]


def configured(settings: AnalysisSettings, model: str) -> list[str]:
    """The segment columns configured for ``model`` (``'*'``: for every model)."""
    return list(settings.segments.get(model, settings.segments.get("*", [])))


__all__ = ["OTHER", "SegmentModel", "configured", "fit_segments", "segments_section"]
