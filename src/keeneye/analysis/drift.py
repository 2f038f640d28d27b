"""The drift job's computation for one window: every feature (and the prediction, when the
baseline holds a ``prediction`` column) against the reference, through the same engine and
the same column conversion as ``keeneye.compare``."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pyarrow as pa

from keeneye.analysis.absent import absent_features, mark_absent_in_drift
from keeneye.analysis.columns import to_columns
from keeneye.analysis.reference import PREDICTION_COLUMN, Reference
from keeneye.config import AnalysisSettings
from keeneye.stats import DriftOptions, detect_drift
from keeneye.stats.budget import DAY, AlertBudget, share_level
from keeneye.stats.results import json_safe


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
    *,
    length: timedelta = DAY,
) -> dict[str, Any] | None:
    """Drift of one version's window rows against ``reference`` (``None`` when the baseline has
    no testable feature). The window's level (alert budget) is shared between the features
    (Holm within them) and the prediction in proportion to their number of tests."""
    if reference.profile is None:
        return None
    absent = absent_features(features, reference.tested)
    table = with_reference_columns(features, reference)
    current, problems = to_columns(table, reference.tested)
    for name in absent:  # not a column of NaNs: the engine reports it as not tested
        current.pop(name, None)
        problems.pop(name, None)
    level = window_alpha(settings, length)
    has_prediction = reference.prediction_profile is not None
    feature_level, prediction_level = share_level(
        level, [len(reference.profile.features), int(has_prediction)]
    )
    options = drift_options(settings, length)
    if has_prediction:
        options = replace(options, alpha=feature_level)
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
    payload["alert_budget"] = _budget_info(settings, length, level)
    mark_absent_in_drift(payload, absent)
    if reference.prediction_profile is not None and reference.prediction_kind is not None:
        predictions = pa.table({PREDICTION_COLUMN: events.column("prediction")})
        pred_columns, pred_problems = to_columns(
            predictions, {PREDICTION_COLUMN: reference.prediction_kind}
        )
        if pred_columns:
            pred_options = replace(options, alpha=prediction_level)
            pred = detect_drift(reference.prediction_profile, pred_columns, options=pred_options)
            payload["prediction"] = pred.to_dict()["features"][0]
        else:
            payload["prediction"] = {"reason": pred_problems.get(PREDICTION_COLUMN)}
    return json_safe(payload)


def _budget_info(settings: AnalysisSettings, length: timedelta, level: float) -> dict[str, Any]:
    """What the window's level came from, and the false alerts per month it implies."""
    budget = alert_budget(settings)
    info: dict[str, Any] = {"window_level": level}
    if budget is None:
        info["expected_false_alerts_per_month"] = None
        return info
    info.update(
        false_alerts=budget.false_alerts,
        period_days=budget.period_days,
        windows_per_period=budget.windows_per_period(length),
        expected_false_alerts_per_month=budget.expected_per_month(length),
    )
    return info
