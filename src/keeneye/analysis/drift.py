"""The drift job's computation for one window: every feature (and the prediction, when the
baseline holds a ``prediction`` column) against the fitted reference — the very
:meth:`Reference.compare <keeneye.profile.reference.Reference.compare>` that ``keeneye.compare``
runs."""

from __future__ import annotations

import pyarrow as pa

from keeneye.config import AnalysisSettings
from keeneye.profile.reference import PREDICTION_COLUMN, CompareOptions, Reference
from keeneye.profile.report import DriftSection
from keeneye.stats import DriftOptions


def drift_options(settings: AnalysisSettings) -> DriftOptions:
    """The engine options that the ``analysis`` settings pin."""
    return DriftOptions(correction=settings.correction)


def compare_options(settings: AnalysisSettings) -> CompareOptions:
    """How a window is compared with its reference: the reference's features only, the
    store's columns cast to the reference's kinds, methods and thresholds from the settings."""
    return CompareOptions(
        drift=drift_options(settings),
        methods=dict(settings.drift_methods or {}),
        thresholds=dict(settings.drift_thresholds or {}),
        reference_features_only=True,
        check_types=False,
    )


def with_reference_columns(features: pa.Table, reference: Reference) -> pa.Table:
    """``features`` plus an all-missing column for each baseline feature the window lacks (a
    feature that production stopped sending shows up as missing, not as absent)."""
    table = features
    for name in reference.kinds:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows))
    return table


def drift_section(
    features: pa.Table,
    events: pa.Table,
    reference: Reference,
    settings: AnalysisSettings,
) -> DriftSection | None:
    """Drift of one version's window rows against ``reference`` (``None`` when the baseline has
    no testable feature)."""
    if not reference.tested:
        return None
    table = with_reference_columns(features, reference)
    if reference.prediction is not None and PREDICTION_COLUMN not in table.column_names:
        table = table.append_column(PREDICTION_COLUMN, events.column("prediction"))
    report = reference.compare(table, compare_options(settings))
    return report.drift
