"""The estimated performance and multivariate drift of a ``keeneye.compare`` (and of the
``keeneye report`` HTML page): the window jobs' computations on two tables.

The reference is the baseline (features, ``prediction``, ``label``/``target`` and the score
columns for a classifier); the current table holds the same features, the prediction and
scores, and a label column when some labels are known (then the realized value is shown beside
the estimate).
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from keeneye.analysis.estimation import estimated_section, fit_estimator
from keeneye.analysis.multivariate import fit_multivariate, multivariate_section
from keeneye.analysis.online import baseline_streams, online_section
from keeneye.analysis.segments import fit_segments, segments_section
from keeneye.config import AnalysisSettings
from keeneye.errors import InputError
from keeneye.profile.reference import PREDICTION_COLUMN, TARGET_COLUMNS
from keeneye.profile.report import (
    EstimatedSection,
    MultivariateSection,
    OnlineSection,
    SegmentsSection,
)
from keeneye.schema import FeatureKind
from keeneye.stats.multivariate import METHODS
from keeneye.stats.online import DETECTORS


def multivariate_of(
    reference: pa.Table,
    current: pa.Table,
    kinds: Mapping[str, FeatureKind | None],
    alpha: float,
) -> MultivariateSection:
    """Both multivariate tests, each at ``alpha / 2``."""
    model = fit_multivariate(reference, kinds)
    return multivariate_section(model, current, alpha / len(METHODS), METHODS)


def estimated_of(
    reference: pa.Table,
    current: pa.Table,
    kinds: Mapping[str, FeatureKind | None],
    alpha: float,
    *,
    positive_class: str | None = None,
) -> EstimatedSection:
    """CBPE or DLE fitted on ``reference``, estimated on ``current``."""
    if PREDICTION_COLUMN not in current.column_names:
        raise InputError(
            f"estimating performance needs a {PREDICTION_COLUMN!r} column in the current data"
        )
    estimator = fit_estimator(reference, kinds, positive_class=positive_class)
    if estimator is None:
        raise InputError(
            "estimating performance needs reference data with 'prediction', 'label' (or "
            "'target') and, for a classifier, the score column 'score' (positive class) or "
            "'score_<class>' per class; at least 50 labelled rows"
        )
    target = next((c for c in current.column_names if c in TARGET_COLUMNS), None)
    n = current.num_rows
    label = current.column(target) if target is not None else pa.nulls(n)
    events = pa.table({"prediction": current.column(PREDICTION_COLUMN), "label": label})
    return estimated_section(estimator, current, events, alpha, positive_class)


def _events(current: pa.Table) -> pa.Table:
    """The current rows as events: prediction, label (when known), row order as time."""
    import datetime as dt

    n = current.num_rows
    target = next((c for c in current.column_names if c in TARGET_COLUMNS), None)
    t0 = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    stamps = [t0 + dt.timedelta(seconds=i) for i in range(n)]
    prediction = (
        current.column(PREDICTION_COLUMN)
        if PREDICTION_COLUMN in current.column_names
        else pa.nulls(n)
    )
    times = pa.array(stamps, pa.timestamp("us", tz="UTC"))
    return pa.table(
        {
            "timestamp": times,
            "prediction": prediction,
            "label": current.column(target) if target is not None else pa.nulls(n),
            "label_timestamp": times,
        }
    )


def segments_of(
    reference: pa.Table, current: pa.Table, columns: list[str], alpha: float
) -> SegmentsSection:
    """Drift and performance per segment of ``columns``, the segments sharing ``alpha``."""
    unknown = [c for c in columns if c not in reference.column_names]
    if unknown:
        raise InputError(f"segment column {unknown[0]!r} is not in the reference data")
    settings = AnalysisSettings.model_validate({})
    model = fit_segments(
        reference, columns, top_k=settings.segment_top_k, min_size=settings.segment_min_size
    )
    return segments_section(model, current, _events(current), alpha, settings)


def online_of(reference: pa.Table, current: pa.Table, streams: list[str]) -> OnlineSection:
    """The online detectors over ``streams`` of the current rows, in file order."""
    warm = baseline_streams(reference, streams, "auto")
    missing = [s for s in streams if s not in warm]
    if missing:
        raise InputError(
            f"online stream {missing[0]!r}: the reference has no such column (or, for "
            "'error', no prediction and label columns)"
        )
    return online_section(warm, streams, DETECTORS, current, _events(current), "auto")


__all__ = ["estimated_of", "multivariate_of", "online_of", "segments_of"]
