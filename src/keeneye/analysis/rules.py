"""Alert rules: read the results of one window and say what is wrong, as
:class:`keeneye.notify.Alert` records. Pure functions; thresholds come from the ``alerts``
section of the settings.

Every rule is a function ``(result, settings) -> list[Alert]`` registered for one result kind
in :data:`RULES`. Rules only *find* conditions; the notifier deduplicates, cools down and sends
"resolved" messages (an alert's ``key`` names the condition).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from keeneye.analysis.traffic import min_z_for, traffic_verdict
from keeneye.config import AlertSettings
from keeneye.notify.alert import Alert, Severity
from keeneye.store.records import StoredResult

Rule = Callable[[StoredResult, AlertSettings], list[Alert]]


def _alert(
    result: StoredResult,
    rule: str,
    subject: str,
    summary: str,
    *,
    severity: Severity = Severity.WARNING,
    value: float | None = None,
    threshold: float | None = None,
    **details: Any,
) -> Alert:
    window = result.payload.get("window", "")
    return Alert(
        model=result.model,
        version=result.version,
        rule=rule,
        subject=subject,
        severity=severity,
        summary=f"{result.model} v{result.version} ({window} window "
        f"{result.window_start.isoformat()}): {summary}",
        window_start=result.window_start,
        window_end=result.window_end,
        value=value,
        threshold=threshold,
        details={"window": window, **details},
    )


def traffic_rule(result: StoredResult, settings: AlertSettings) -> list[Alert]:
    """Traffic changed by more than ``traffic_change`` against comparable earlier windows."""
    verdict = traffic_verdict(
        result.payload,
        settings.traffic_change,
        settings.traffic_min_events,
        min_z=settings.traffic_min_z,
    )
    if not verdict.alert or verdict.change_ratio is None:
        return []
    change = verdict.change_ratio
    compared = result.payload["compared"]
    basis = compared[verdict.compared_to[-1]]
    direction = "below" if change < 0 else "above"
    summary = (
        f"{result.payload['events']} predictions, {abs(change):.0%} {direction} "
        f"{'a week' if 'week' in verdict.compared_to else 'a day'} ago ({basis['events']})"
    )
    severity = Severity.CRITICAL if abs(change) >= 2 * settings.traffic_change else Severity.WARNING
    return [
        _alert(
            result,
            "traffic",
            str(result.payload.get("window", "window")),
            summary,
            severity=severity,
            value=change,
            threshold=settings.traffic_change,
            compared_to=list(verdict.compared_to),
            changes={k: v.get("change_ratio") for k, v in compared.items()},
        )
    ]


def nonfinite_prediction_rule(result: StoredResult, settings: AlertSettings) -> list[Alert]:
    """Any NaN or infinite prediction (more than ``nonfinite_predictions``)."""
    prediction = result.payload.get("prediction") or {}
    count = int(prediction.get("nonfinite", 0))
    if count <= settings.nonfinite_predictions:
        return []
    return [
        _alert(
            result,
            "nonfinite_prediction",
            "prediction",
            f"{count} of {result.payload.get('events')} predictions are NaN or infinite",
            severity=Severity.CRITICAL,
            value=float(count),
            threshold=float(settings.nonfinite_predictions),
        )
    ]


def quality_rule(result: StoredResult, settings: AlertSettings) -> list[Alert]:
    """A feature's missing share rose by ``missing_increase`` over the baseline's, or a share
    above ``out_of_range`` of its values lies outside the baseline's range."""
    if int(result.payload.get("events", 0)) < settings.min_events:
        return []
    out: list[Alert] = []
    for feature, info in sorted((result.payload.get("features") or {}).items()):
        missing = info.get("missing_ratio")
        # Without a baseline there is nothing to compare with: a sparse feature would alert in
        # every window.
        base = info.get("baseline_missing_ratio")
        if missing is not None and base is not None and missing - base > settings.missing_increase:
            out.append(
                _alert(
                    result,
                    "missing_values",
                    feature,
                    f"feature {feature!r} is missing in {missing:.0%} of events "
                    f"(baseline {base:.0%})",
                    value=missing,
                    threshold=base + settings.missing_increase,
                    baseline=base,
                )
            )
        outside = info.get("out_of_range_ratio")
        if outside is not None and outside > settings.out_of_range:
            out.append(
                _alert(
                    result,
                    "out_of_range",
                    feature,
                    f"{outside:.0%} of feature {feature!r} lies outside the baseline's range",
                    value=outside,
                    threshold=settings.out_of_range,
                )
            )
    return out


def drift_rule(result: StoredResult, settings: AlertSettings) -> list[Alert]:
    """The dataset drift share reached ``drift_share``, or a feature named in
    ``drift_features`` (``'*'``: any) drifted."""
    payload = result.payload
    if int(payload.get("n_current", payload.get("events", 0))) < settings.min_events:
        return []
    if payload.get("window") not in settings.drift_windows:
        return []
    out: list[Alert] = []
    features = list(payload.get("features", []))
    share = payload.get("drift_share")
    drifted = [f["feature"] for f in features if f.get("drifted")]
    if share is not None and features and share >= settings.drift_share:
        out.append(
            _alert(
                result,
                "dataset_drift",
                "dataset",
                f"{share:.0%} of features drifted ({', '.join(drifted[:5])}"
                f"{' …' if len(drifted) > 5 else ''})",
                severity=Severity.CRITICAL,
                value=float(share),
                threshold=settings.drift_share,
                drifted=drifted,
            )
        )
    watched = set(settings.drift_features)
    candidates = list(features)
    prediction = payload.get("prediction")
    if isinstance(prediction, Mapping) and prediction.get("method"):
        candidates.append({**prediction, "feature": "__prediction__"})
    for info in candidates:
        name = info.get("feature")
        named = name in watched or (name == "__prediction__" and "prediction" in watched)
        # The multiple-testing-corrected verdict: one alert per drifting feature must not turn
        # into "some feature drifts in every window" when many features are tested.
        drifted_here = info.get("drifted_adjusted", info.get("drifted"))
        if not drifted_here or not ("*" in watched or named):
            continue
        label = "the prediction" if name == "__prediction__" else f"feature {name!r}"
        value, threshold, reason = _drift_decision(info)
        out.append(
            _alert(
                result,
                "feature_drift",
                str(name),
                f"{label} drifted ({info.get('method')}: {reason})",
                value=value,
                threshold=threshold,
                method=info.get("method"),
                decided_by=info.get("decided_by"),
                statistic=info.get("statistic"),
                p_value=info.get("p_value"),
                p_value_adjusted=info.get("p_value_adjusted"),
                effect_size=info.get("effect_size"),
                effect_method=info.get("effect_method"),
            )
        )
    return out


def performance_rule(result: StoredResult, settings: AlertSettings) -> list[Alert]:
    """A metric under ``performance_min`` (or over ``performance_max``), and a prediction bias
    beyond ``prediction_bias``, once ``min_labels`` labels have landed."""
    payload = result.payload
    if int(payload.get("labels", 0)) < settings.min_labels:
        return []
    out: list[Alert] = []
    metrics: Mapping[str, float] = (payload.get("performance") or {}).get("metrics", {})
    for metric, low in sorted(settings.performance_min.items()):
        value = metrics.get(metric)
        if value is not None and value < low:
            out.append(
                _alert(
                    result,
                    "performance",
                    metric,
                    f"{metric} is {value:.3f}, under {low} ({payload['labels']} labels)",
                    value=value,
                    threshold=low,
                )
            )
    for metric, high in sorted(settings.performance_max.items()):
        value = metrics.get(metric)
        if value is not None and value > high:
            out.append(
                _alert(
                    result,
                    "performance",
                    metric,
                    f"{metric} is {value:.3f}, over {high} ({payload['labels']} labels)",
                    value=value,
                    threshold=high,
                )
            )
    bias = payload.get("bias") or {}
    normalized = bias.get("normalized")
    z = bias_z(payload)
    significant = z is None or z >= min_z_for(payload.get("window"), settings.prediction_bias_min_z)
    if normalized is not None and abs(normalized) > settings.prediction_bias and significant:
        subject = bias.get("subject")
        if bias.get("method") == "calibration":
            what = f"mean predicted probability of class {subject!r}"
        else:
            what = f"class {subject!r} predicted" if subject is not None else "mean prediction"
        out.append(
            _alert(
                result,
                "prediction_bias",
                "prediction",
                f"{what} off by {bias['value']:+.3g} from what was observed",
                value=float(normalized),
                threshold=settings.prediction_bias,
                z=z,
            )
        )
    return out


def bias_z(payload: Mapping[str, Any]) -> float | None:
    """How many standard errors the window's prediction bias is from 0 (``None`` when the
    payload cannot say).

    Probabilistic classifiers (``bias.method == "calibration"``): the stored ``z``, the mean
    probability's gap to the observed rate over its sampling error. Hard class predictions:
    predicted minus observed share of a class over the same rows is
    ``(FP - FN) / n`` for that class, and without bias a misclassified row is as likely one as
    the other, so ``|FP - FN| / sqrt(FP + FN)`` (McNemar's statistic; 6 false positives and no
    false negative in 60 rows is a 0.1 gap but only 2.4 sigma). Regression: the mean error over
    its standard error.

    >>> cm = {"labels": ["0", "1"], "matrix": [[50, 6], [0, 4]]}
    >>> round(bias_z({"bias": {"subject": "1"},
    ...               "performance": {"task": "classification", "confusion_matrix": cm}}), 2)
    2.45
    >>> bias_z({"bias": {"subject": None}, "performance": {"task": "regression", "n": 100,
    ...         "metrics": {"mean_error": 0.5, "rmse": 1.3}}})
    4.166666666666667
    """
    performance = payload.get("performance") or {}
    bias = payload.get("bias") or {}
    if bias.get("method") == "calibration":  # probabilities: the gap over its sampling error
        z = bias.get("z")
        return None if z is None else abs(float(z))
    if performance.get("task") == "classification":
        confusion = performance.get("confusion_matrix") or {}
        labels, matrix = confusion.get("labels") or [], confusion.get("matrix") or []
        subject = bias.get("subject")
        if subject not in labels:
            return None
        k = labels.index(subject)
        false_pos = sum(row[k] for i, row in enumerate(matrix) if i != k)
        false_neg = sum(v for j, v in enumerate(matrix[k]) if j != k)
        if false_pos + false_neg == 0:
            return 0.0
        return abs(false_pos - false_neg) / math.sqrt(false_pos + false_neg)
    if performance.get("task") == "regression":
        metrics = performance.get("metrics") or {}
        mean_error, rmse, n = metrics.get("mean_error"), metrics.get("rmse"), performance.get("n")
        if mean_error is None or rmse is None or not n:
            return None
        spread = math.sqrt(max(rmse**2 - mean_error**2, 0.0))
        if spread == 0:
            return math.inf if mean_error else 0.0
        return abs(mean_error) / (spread / math.sqrt(n))
    return None


def schema_rule(result: StoredResult, settings: AlertSettings) -> list[Alert]:
    """Baseline features absent from the window (no row carries a value): one alert naming
    them all, instead of a missing-values alert per feature and window."""
    absent = list(result.payload.get("absent_features") or [])
    if not absent or int(result.payload.get("events", 0)) < settings.min_events:
        return []
    shown = ", ".join(repr(a) for a in absent[:5]) + (" …" if len(absent) > 5 else "")
    return [
        _alert(
            result,
            "schema_change",
            "schema",
            f"{len(absent)} baseline feature(s) absent from the current data: {shown}",
            value=float(len(absent)),
            absent=absent,
        )
    ]


#: Which rules read which result kind.
RULES: Mapping[str, tuple[Rule, ...]] = {
    "traffic": (traffic_rule,),
    "summary": (nonfinite_prediction_rule, quality_rule, schema_rule),
    "drift": (drift_rule,),
    "performance": (performance_rule,),
}


def evaluate(results: Iterable[StoredResult], settings: AlertSettings) -> list[Alert]:
    """Every alert that the rules find in ``results`` (any kinds, any windows)."""
    alerts: list[Alert] = []
    for result in results:
        for rule in RULES.get(result.kind, ()):
            alerts.extend(rule(result, settings))
    return alerts


def _drift_decision(info: Mapping[str, Any]) -> tuple[float | None, float | None, str]:
    """The (value, threshold) pair the drift verdict compared, and the comparison in words.

    ``decided_by`` says which quantity decided: a p-value against alpha (the
    multiple-testing-corrected p-value when there is one: that is the verdict the rule alerts
    on), or an effect size (a distance) against its threshold. An effect size next to alpha
    would compare two different units.

    >>> _drift_decision({"decided_by": "p_value", "statistic": 0.21, "p_value": 0.0004,
    ...                  "p_value_adjusted": 0.004, "threshold": 0.05})
    (0.004, 0.05, 'statistic 0.21, adjusted p-value 0.004 < 0.05')
    >>> _drift_decision({"decided_by": "effect_size", "effect_method": "wasserstein",
    ...                  "effect_size": 0.31, "threshold": 0.1, "p_value": 1e-12})
    (0.31, 0.1, 'wasserstein 0.31 >= 0.1, p-value 1e-12')
    """
    threshold = info.get("threshold")
    limit = None if threshold is None else float(threshold)
    adjusted = info.get("p_value_adjusted")
    p_value = adjusted if adjusted is not None else info.get("p_value")
    which = "adjusted p-value" if adjusted is not None else "p-value"
    if info.get("decided_by") == "effect_size":
        effect = info.get("effect_size")
        value = None if effect is None else float(effect)
        name = info.get("effect_method") or "effect size"
        return value, limit, f"{name} {_fmt(value)} >= {_fmt(limit)}, {which} {_fmt(p_value)}"
    value = None if p_value is None else float(p_value)
    return (
        value,
        limit,
        f"statistic {_fmt(info.get('statistic'))}, {which} {_fmt(value)} < {_fmt(limit)}",
    )


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.3g}"
