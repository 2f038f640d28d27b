"""The drift job's computation for one window: every feature (and the prediction, when the
baseline holds a ``prediction`` column) against the reference, through the same engine and
the same column conversion as ``keeneye.compare``."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from keeneye.analysis.columns import to_columns
from keeneye.analysis.reference import PREDICTION_COLUMN, Reference
from keeneye.analysis.scores import class_labels
from keeneye.config import AnalysisSettings
from keeneye.schema import FeatureKind
from keeneye.stats import DriftOptions, detect_drift
from keeneye.stats.results import json_safe


def drift_options(settings: AnalysisSettings) -> DriftOptions:
    """The engine options that the ``analysis`` settings pin."""
    return DriftOptions(correction=settings.correction)


def with_reference_columns(features: pa.Table, reference: Reference) -> pa.Table:
    """``features`` plus an all-missing column for each baseline feature the window lacks (a
    feature that production stopped sending shows up as missing, not as absent)."""
    table = features
    for name in reference.kinds:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows))
    return table


def drift_payload(
    features: pa.Table,
    events: pa.Table,
    reference: Reference,
    settings: AnalysisSettings,
) -> dict[str, Any] | None:
    """Drift of one version's window rows against ``reference`` (``None`` when the baseline has
    no testable feature)."""
    if reference.profile is None:
        return None
    table = with_reference_columns(features, reference)
    current, problems = to_columns(table, reference.tested)
    options = drift_options(settings)
    results = detect_drift(
        reference.profile,
        current,
        methods=settings.drift_methods or None,
        thresholds=settings.drift_thresholds or None,
        options=options,
    )
    payload: dict[str, Any] = dict(results.to_dict())
    payload["events"] = events.num_rows
    payload["n_current"] = events.num_rows
    payload["problems"] = problems
    payload["prediction"] = None
    if reference.prediction_profile is not None and reference.prediction_kind is not None:
        predicted = events.column("prediction")
        if reference.prediction_kind is FeatureKind.CATEGORICAL:
            predicted = pa.chunked_array([class_labels(predicted)])
        predictions = pa.table({PREDICTION_COLUMN: predicted})
        pred_columns, pred_problems = to_columns(
            predictions, {PREDICTION_COLUMN: reference.prediction_kind}
        )
        if pred_columns:
            pred = detect_drift(reference.prediction_profile, pred_columns, options=options)
            payload["prediction"] = pred.to_dict()["features"][0]
        else:
            payload["prediction"] = {"reason": pred_problems.get(PREDICTION_COLUMN)}
    return json_safe(payload)
