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

from keeneye.analysis.peer_rules import (
    estimated_rule,
    multivariate_rule,
    online_rule,
    segment_rule,
)
from keeneye.analysis.traffic import min_z_for, traffic_verdict
from keeneye.analysis.window_alert import window_alert as _alert
from keeneye.config import AlertSettings
from keeneye.notify.alert import Alert, Severity, condition_key
from keeneye.profile.report import PREDICTION_FEATURE, PerformanceSection, Report, corrected
from keeneye.profile.stored import report_of
from keeneye.stats.results import FeatureDrift
from keeneye.store.records import StoredResult

Rule = Callable[[StoredResult, Report, AlertSettings], list[Alert]]


def traffic_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """Traffic changed by more than ``traffic_change`` against comparable earlier windows."""
    traffic = report.traffic
    if traffic is None:
        return []
    verdict = traffic_verdict(
        traffic,
        settings.traffic_change,
        settings.traffic_min_events,
        min_z=settings.traffic_min_z,
        window=report.window,
    )
    if not verdict.alert or verdict.change_ratio is None:
        return []
    change = verdict.change_ratio
    basis = traffic.compared[verdict.compared_to[-1]]
    direction = "below" if change < 0 else "above"
    summary = (
        f"{traffic.events} predictions, {abs(change):.0%} {direction} "
        f"{'a week' if 'week' in verdict.compared_to else 'a day'} ago ({basis.events})"
    )
    severity = Severity.CRITICAL if abs(change) >= 2 * settings.traffic_change else Severity.WARNING
    return [
        _alert(
            result,
            report,
            "traffic",
            report.window or "window",
            summary,
            severity=severity,
            value=change,
            threshold=settings.traffic_change,
            compared_to=list(verdict.compared_to),
            changes={k: v.change_ratio for k, v in traffic.compared.items()},
        )
    ]


def nonfinite_prediction_rule(
    result: StoredResult, report: Report, settings: AlertSettings
) -> list[Alert]:
    """Any NaN or infinite prediction (more than ``nonfinite_predictions``)."""
    summary = report.summary
    if summary is None or summary.prediction is None:
        return []
    count = summary.prediction.nonfinite
    if count <= settings.nonfinite_predictions:
        return []
    return [
        _alert(
            result,
            report,
            "nonfinite_prediction",
            PREDICTION_FEATURE,
            f"{count} of {summary.events} predictions are NaN or infinite",
            severity=Severity.CRITICAL,
            value=float(count),
            threshold=float(settings.nonfinite_predictions),
        )
    ]


def quality_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """A feature's missing share rose by ``missing_increase`` over the baseline's, or a share
    above ``out_of_range`` of its values lies outside the baseline's range."""
    summary = report.summary
    if summary is None or summary.events < settings.min_events:
        return []
    out: list[Alert] = []
    for feature, info in sorted(summary.features.items()):
        missing = info.missing_ratio
        # Without a baseline there is nothing to compare with: a sparse feature would alert in
        # every window.
        base = info.baseline_missing_ratio
        if missing is not None and base is not None and missing - base > settings.missing_increase:
            out.append(
                _alert(
                    result,
                    report,
                    "missing_values",
                    feature,
                    f"feature {feature!r} is missing in {missing:.0%} of events "
                    f"(baseline {base:.0%})",
                    value=missing,
                    threshold=base + settings.missing_increase,
                    baseline=base,
                )
            )
        outside = info.out_of_range_ratio
        if outside is not None and outside > settings.out_of_range:
            out.append(
                _alert(
                    result,
                    report,
                    "out_of_range",
                    feature,
                    f"{outside:.0%} of feature {feature!r} lies outside the baseline's range",
                    value=outside,
                    threshold=settings.out_of_range,
                )
            )
    return out


def drift_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """The dataset drift share reached ``drift_share``, or a feature named in
    ``drift_features`` (``'*'``: any) drifted."""
    drift = report.drift
    if drift is None:
        return []
    if (drift.n_current or drift.events) < settings.min_events:
        return []
    if report.window not in settings.drift_windows:
        return []
    out: list[Alert] = []
    share = drift.drift_share
    drifted = list(drift.drifted)
    if drift.features and share >= settings.drift_share:
        out.append(
            _alert(
                result,
                report,
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
    for info in drift.rows():
        name = info.feature
        is_prediction = name == PREDICTION_FEATURE
        named = name in watched or (is_prediction and "prediction" in watched)
        # The multiple-testing-corrected verdict: one alert per drifting feature must not turn
        # into "some feature drifts in every window" when many features are tested.
        if not corrected(info) or not ("*" in watched or named):
            continue
        label = "the prediction" if is_prediction else f"feature {name!r}"
        value, threshold, reason = drift_decision(info)
        out.append(
            _alert(
                result,
                report,
                "feature_drift",
                name,
                f"{label} drifted ({info.method}: {reason})",
                value=value,
                threshold=threshold,
                method=info.method,
                decided_by=info.decided_by,
                statistic=_finite(info.statistic),
                p_value=_finite(info.p_value),
                p_value_adjusted=_finite(info.p_value_adjusted),
                effect_size=_finite(info.effect_size),
                effect_method=info.effect_method,
            )
        )
    return out


def performance_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """A metric under ``performance_min`` (or over ``performance_max``), and a prediction bias
    beyond ``prediction_bias``, once ``min_labels`` labels have landed."""
    section = report.performance
    if section is None or section.labels < settings.min_labels:
        return []
    out: list[Alert] = []
    metrics = section.metrics
    metric: str
    for metric, low in sorted(settings.performance_min.items()):
        value = metrics.get(metric)
        if value is not None and value < low:
            out.append(
                _alert(
                    result,
                    report,
                    "performance",
                    metric,
                    f"{metric} is {value:.3f}, under {low} ({section.labels} labels)",
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
                    report,
                    "performance",
                    metric,
                    f"{metric} is {value:.3f}, over {high} ({section.labels} labels)",
                    value=value,
                    threshold=high,
                )
            )
    # From the baseline's labels, only while no limit is set by hand: a user who states limits
    # has said which metrics matter (f1 or precision also move with the class balance).
    by_hand = bool(settings.performance_min or settings.performance_max)
    for metric, expected in sorted(section.expected.items()):
        value = metrics.get(metric)
        if value is None or by_hand:
            continue
        limit, word = (
            (expected.low, "under") if expected.low is not None else (expected.high, "over")
        )
        if limit is None or not (value < limit if word == "under" else value > limit):
            continue
        out.append(
            _alert(
                result,
                report,
                "performance",
                metric,
                f"{metric} is {value:.3f}, {word} {limit:.3f} expected from the baseline for "
                f"{section.labels} labels (baseline mean {expected.mean or 0.0:.3f})",
                value=value,
                threshold=limit,
                expected_mean=expected.mean,
                expected_sd=expected.sd,
            )
        )
    bias = section.bias
    normalized = bias.normalized if bias is not None else None
    z = bias_z(section)
    significant = z is None or z >= min_z_for(report.window, settings.prediction_bias_min_z)
    if (
        bias is not None
        and normalized is not None
        and abs(normalized) > settings.prediction_bias
        and significant
    ):
        subject = bias.subject
        if bias.method == "calibration":
            what = f"mean predicted probability of class {subject!r}"
        else:
            what = f"class {subject!r} predicted" if subject is not None else "mean prediction"
        out.append(
            _alert(
                result,
                report,
                "prediction_bias",
                PREDICTION_FEATURE,
                f"{what} off by {bias.value or 0.0:+.3g} from what was observed",
                value=float(normalized),
                threshold=settings.prediction_bias,
                z=z,
            )
        )
    return out


def bias_z(section: PerformanceSection) -> float | None:
    """How many standard errors the window's prediction bias is from 0 (``None`` when the
    section cannot say).

    Probabilistic classifiers (``bias.method == "calibration"``): the stored ``z``, the mean
    probability's gap to the observed rate over its sampling error. Hard class predictions:
    predicted minus observed share of a class over the same rows is
    ``(FP - FN) / n`` for that class, and without bias a misclassified row is as likely one as
    the other, so ``|FP - FN| / sqrt(FP + FN)`` (McNemar's statistic; 6 false positives and no
    false negative in 60 rows is a 0.1 gap but only 2.4 sigma). Regression: the mean error over
    its standard error.

    >>> from keeneye.profile.report import BiasStats, ConfusionMatrix, PerformanceStats
    >>> cm = ConfusionMatrix(("0", "1"), ((50, 6), (0, 4)))
    >>> stats = PerformanceStats(task="classification", confusion_matrix=cm)
    >>> round(bias_z(PerformanceSection(bias=BiasStats(subject="1"), performance=stats)), 2)
    2.45
    >>> stats = PerformanceStats(task="regression", n=100,
    ...                          metrics={"mean_error": 0.5, "rmse": 1.3})
    >>> bias_z(PerformanceSection(bias=BiasStats(), performance=stats))
    4.166666666666667
    """
    performance = section.performance
    bias = section.bias
    if performance is None or bias is None:
        return None
    if bias.method == "calibration":  # probabilities: the gap over its sampling error
        return None if bias.z is None else abs(bias.z)
    if performance.task == "classification":
        confusion = performance.confusion_matrix
        if confusion is None:
            return None
        labels, matrix = list(confusion.labels), confusion.matrix
        subject = bias.subject
        if subject not in labels:
            return None
        k = labels.index(subject)
        false_pos = sum(row[k] for i, row in enumerate(matrix) if i != k)
        false_neg = sum(v for j, v in enumerate(matrix[k]) if j != k)
        if false_pos + false_neg == 0:
            return 0.0
        return abs(false_pos - false_neg) / math.sqrt(false_pos + false_neg)
    if performance.task == "regression":
        metrics = performance.metrics
        mean_error, rmse, n = metrics.get("mean_error"), metrics.get("rmse"), performance.n
        if mean_error is None or rmse is None or not n:
            return None
        spread = math.sqrt(max(rmse**2 - mean_error**2, 0.0))
        if spread == 0:
            return math.inf if mean_error else 0.0
        return abs(mean_error) / (spread / math.sqrt(n))
    return None


def schema_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """Baseline features absent from the window (no row carries a value): one alert naming
    them all, instead of a missing-values alert per feature and window."""
    summary = report.summary
    if summary is None or not summary.absent_features or summary.events < settings.min_events:
        return []
    absent = list(summary.absent_features)
    shown = ", ".join(repr(a) for a in absent[:5]) + (" …" if len(absent) > 5 else "")
    return [
        _alert(
            result,
            report,
            "schema_change",
            "schema",
            f"{len(absent)} baseline feature(s) absent from the current data: {shown}",
            value=float(len(absent)),
            absent=absent,
        )
    ]


def outlier_rule(result: StoredResult, report: Report, settings: AlertSettings) -> list[Alert]:
    """The window's outlier share is improbably high for the baseline's rate (the binomial
    test of ``keeneye.stats.outliers`` at the alert budget's level), and a client sent a burst
    of outliers or near-duplicate probes."""
    section = report.outliers
    if section is None or section.events < settings.min_events:
        return []
    out: list[Alert] = []
    if section.alert:
        out.append(
            _alert(
                result,
                report,
                "outlier_share",
                "outliers",
                f"{section.outliers} of {section.events} events are outliers "
                f"({section.share:.1%}; the baseline's rate is {section.expected_share:.1%}, "
                f"binomial p={section.p_value:.2g} < {section.alpha:.2g})",
                value=section.share,
                threshold=section.expected_share,
                p_value=_finite(section.p_value),
                alpha=section.alpha,
            )
        )
    for burst in section.bursts:
        out.append(
            _alert(
                result,
                report,
                "probe_burst",
                burst.client,
                f"client {burst.client} ({section.client_key}): {burst.reason}",
                severity=Severity.CRITICAL,
                value=float(max(burst.outliers, burst.near_duplicates)),
                events=burst.events,
                outliers=burst.outliers,
                near_duplicates=burst.near_duplicates,
                p_value=_finite(burst.p_value),
            )
        )
    return out


#: Which rules read which result kind.
RULES: Mapping[str, tuple[Rule, ...]] = {
    "traffic": (traffic_rule,),
    "summary": (nonfinite_prediction_rule, quality_rule, schema_rule),
    "drift": (drift_rule, outlier_rule),
    "performance": (performance_rule,),
    "estimated": (estimated_rule,),
    "multivariate": (multivariate_rule,),
    "segments": (segment_rule,),
    "online": (online_rule,),
}


def evaluate(results: Iterable[StoredResult], settings: AlertSettings) -> list[Alert]:
    """Every alert that the rules find in ``results`` (any kinds, any windows)."""
    alerts: list[Alert] = []
    for result in results:
        rules = RULES.get(result.kind, ())
        if not rules:
            continue
        report = report_of(result)
        for rule in rules:
            alerts.extend(rule(result, report, settings))
    return alerts


Reading = Callable[[Report, AlertSettings], dict[tuple[str, str], float]]


def _traffic_reading(report: Report, settings: AlertSettings) -> dict[tuple[str, str], float]:
    traffic = report.traffic
    if traffic is None:
        return {}
    verdict = traffic_verdict(
        traffic,
        settings.traffic_change,
        settings.traffic_min_events,
        min_z=settings.traffic_min_z,
        window=report.window,
    )
    change = verdict.change_ratio
    return {} if change is None else {("traffic", report.window or "window"): change}


def _summary_reading(report: Report, settings: AlertSettings) -> dict[tuple[str, str], float]:
    summary = report.summary
    if summary is None:
        return {}
    out: dict[tuple[str, str], float] = {("schema_change", "schema"): len(summary.absent_features)}
    if summary.prediction is not None:
        out[("nonfinite_prediction", PREDICTION_FEATURE)] = float(summary.prediction.nonfinite)
    for feature, info in summary.features.items():
        if info.missing_ratio is not None:
            out[("missing_values", feature)] = info.missing_ratio
        if info.out_of_range_ratio is not None:
            out[("out_of_range", feature)] = info.out_of_range_ratio
    return out


def _drift_reading(report: Report, settings: AlertSettings) -> dict[tuple[str, str], float]:
    drift = report.drift
    if drift is None:
        return {}
    out = {("dataset_drift", "dataset"): float(drift.drift_share)}
    for info in drift.rows():
        value = drift_decision(info)[0]
        if value is not None:
            out[("feature_drift", info.feature)] = value
    return out


def _performance_reading(report: Report, settings: AlertSettings) -> dict[tuple[str, str], float]:
    section = report.performance
    if section is None or section.labels < settings.min_labels:
        return {}
    out: dict[tuple[str, str], float] = {}
    for metric, value in section.metrics.items():
        if (number := _finite(value)) is not None:
            out[("performance", metric)] = number
    bias = section.bias
    if bias is not None and (normalized := _finite(bias.normalized)) is not None:
        out[("prediction_bias", PREDICTION_FEATURE)] = normalized
    return out


#: What each result kind's rules measure, alerting or not: ``(rule, subject) -> value``.
READINGS: Mapping[str, Reading] = {
    "traffic": _traffic_reading,
    "summary": _summary_reading,
    "drift": _drift_reading,
    "performance": _performance_reading,
}


def readings(results: Iterable[StoredResult], settings: AlertSettings) -> dict[str, float]:
    """The value every rule measures in ``results``, whether it alerts or not, by the key of
    the alert it would raise (:attr:`Alert.key`): a "resolved" message shows the value now
    next to the one that fired."""
    out: dict[str, float] = {}
    for result in results:
        read = READINGS.get(result.kind)
        if read is None:
            continue
        for (rule, subject), value in read(report_of(result), settings).items():
            out[condition_key(result.model, result.version, rule, subject)] = value
    return out


def drift_decision(info: FeatureDrift) -> tuple[float | None, float | None, str]:
    """The (value, threshold) pair the drift verdict compared, and the comparison in words.

    ``decided_by`` says which quantity decided: a p-value against alpha (the
    multiple-testing-corrected p-value when there is one: that is the verdict the rule alerts
    on), or an effect size (a distance) against its threshold. An effect size next to alpha
    would compare two different units.

    >>> from keeneye.stats.results import FeatureDrift
    >>> row = FeatureDrift("x", None, "ks", 0.21, 0.0004, None, None, 0.05, "p_value", True,
    ...                    None, 10, 10, p_value_adjusted=0.004)
    >>> drift_decision(row)
    (0.004, 0.05, 'statistic 0.21, adjusted p-value 0.004 < 0.05')
    >>> row = FeatureDrift("x", None, "ks", 0.3, 1e-12, 0.31, "wasserstein", 0.1, "effect_size",
    ...                    True, None, 10, 10)
    >>> drift_decision(row)
    (0.31, 0.1, 'wasserstein 0.31 >= 0.1, p-value 1e-12')
    """
    limit = _finite(info.threshold)
    adjusted = _finite(info.p_value_adjusted)
    p_value = adjusted if adjusted is not None else _finite(info.p_value)
    which = "adjusted p-value" if adjusted is not None else "p-value"
    if info.decided_by == "effect_size":
        value = _finite(info.effect_size)
        name = info.effect_method or "effect size"
        return value, limit, f"{name} {_fmt(value)} >= {_fmt(limit)}, {which} {_fmt(p_value)}"
    return (
        p_value,
        limit,
        f"statistic {_fmt(_finite(info.statistic))}, {which} {_fmt(p_value)} < {_fmt(limit)}",
    )


def _finite(value: float | None) -> float | None:
    """``value`` as a float, ``None`` when missing or not finite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{float(value):.3g}"
