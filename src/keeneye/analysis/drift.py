"""The drift job's computation for one window: every feature (and the prediction, when the
baseline holds a ``prediction`` column) against the fitted reference — the very
:meth:`Reference.compare <keeneye.profile.reference.Reference.compare>` that ``keeneye.compare``
runs — at the decision level the alert budget gives a window of that length."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pyarrow as pa

from keeneye.analysis.absent import ABSENT_REASON, absent_features
from keeneye.analysis.scores import class_labels
from keeneye.config import AnalysisSettings
from keeneye.profile.reference import PREDICTION_COLUMN, CompareOptions, Reference
from keeneye.profile.report import DriftSection
from keeneye.schema import FeatureKind
from keeneye.stats import DriftOptions
from keeneye.stats.budget import DAY, AlertBudget, WindowBudget, share_level


def alert_budget(settings: AnalysisSettings) -> AlertBudget | None:
    """The ``analysis.alert_budget`` setting as the statistics' :class:`AlertBudget`."""
    b = settings.alert_budget
    return None if b is None else AlertBudget(b.false_alerts, b.period_days, b.split)


def window_alpha(settings: AnalysisSettings, length: timedelta = DAY) -> float:
    """The family-wise level of one window of ``length``: from the alert budget (budget /
    windows per period), else the fixed ``analysis.alpha``."""
    budget = alert_budget(settings)
    return settings.alpha if budget is None else budget.window_level(length)


def drift_options(settings: AnalysisSettings, length: timedelta = DAY) -> DriftOptions:
    """The engine options that the ``analysis`` settings pin, for a window of ``length``."""
    return DriftOptions(alpha=window_alpha(settings, length), correction=settings.correction)


def compare_options(settings: AnalysisSettings, length: timedelta = DAY) -> CompareOptions:
    """How a window is compared with its reference: the reference's features only, the
    store's columns cast to the reference's kinds, methods and thresholds from the settings,
    the level of a window of ``length``."""
    return CompareOptions(
        drift=drift_options(settings, length),
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
    *,
    length: timedelta = DAY,
    reserve: int = 0,
) -> DriftSection | None:
    """Drift of one version's window rows against ``reference`` (``None`` when the baseline has
    no testable feature). The window's level (alert budget) is shared between the features
    (Holm within them) and the prediction in proportion to their number of tests; baseline
    features that no row carries are reported as absent. ``reserve`` tests of other families
    (multivariate drift) share the window's level (``keeneye.analysis.multivariate.levels``)."""
    if not reference.tested:
        return None
    absent = absent_features(features, set(reference.tested) - reference.derived)
    table = with_reference_columns(features, reference)
    if reference.prediction is not None and PREDICTION_COLUMN not in table.column_names:
        predicted = events.column("prediction")
        if reference.prediction.kinds.get(PREDICTION_COLUMN) is FeatureKind.CATEGORICAL:
            # Classes as the baseline's class names: a 1 stored as 1.0 is the same class.
            predicted = pa.chunked_array([class_labels(predicted)], type=pa.string())
        table = table.append_column(PREDICTION_COLUMN, predicted)
    level = window_alpha(settings, length)
    if reserve:
        univariate = len(reference.tested) + (reference.prediction is not None)
        level = share_level(level, [univariate, reserve])[0]
    options = compare_options(settings, length)
    if reference.prediction is not None:
        feature_level, prediction_level = share_level(level, [len(reference.tested), 1])
        options = replace(
            options,
            drift=replace(options.drift, alpha=feature_level),
            prediction_drift=replace(options.drift, alpha=prediction_level),
        )
    report = reference.compare(table, options)
    section = report.drift
    if section is None:
        return None
    rows = tuple(
        replace(f, reason=ABSENT_REASON) if f.feature in absent and not f.tested else f
        for f in section.features
    )
    budget = WindowBudget.of(alert_budget(settings), length, settings.alpha)
    return replace(section, features=rows, alert_budget=budget, absent_features=tuple(absent))
