"""Prometheus recording and alerting rules for keeneye's metrics.

Recording rules pre-compute, per model and version, the request rate, error ratio, latency
quantiles, non-finite rate and the prediction rate now, a day ago and a week ago; the alerting
rules are the Prometheus twins of keeneye's own notification rules (:mod:`keeneye.analysis.rules`)
with the same thresholds, plus what only Prometheus sees (latency, errors, scrape health).

>>> from keeneye.integrations.prometheus.options import ExportOptions
>>> names = RecordedNames.of(ExportOptions())
>>> names.requests
'model_version:keeneye_predictions:rate5m'
>>> names.latency[0.95]
'model_version:keeneye_prediction_latency_seconds:p95_rate5m'
>>> [a.alert for a in alerting_rules(ExportOptions())][:3]
['KeeneyeTrafficChange', 'KeeneyeTrafficChange', 'KeeneyeTrafficChange']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from keeneye.analysis.traffic import min_z_for
from keeneye.analysis.windows import WINDOW_NAMES
from keeneye.integrations.prometheus import metrics as m
from keeneye.integrations.prometheus.options import ExportOptions, duration_seconds

#: Latency quantiles recorded for dashboards (the SLO's quantile is added when it differs).
LATENCY_QUANTILES = (0.5, 0.95, 0.99)
#: Label that marks keeneye's alerts, so an existing Alertmanager can route them.
SOURCE_LABEL = ("source", "keeneye")
MV = "model, version"


def _num(value: float) -> str:
    """A float as PromQL reads it back exactly (``repr`` round-trips)."""
    return repr(float(value))


def _quantile_name(q: float) -> str:
    """``0.95`` → ``p95``, ``0.999`` → ``p999``, ``0.5`` → ``p50``."""
    digits = f"{q:.6f}".split(".")[1].rstrip("0")
    return "p" + (digits if len(digits) >= 2 else digits.ljust(2, "0"))


@dataclass(frozen=True)
class RecordedNames:
    """The names of the recorded series (they embed the windows they were computed over)."""

    requests: str
    errors: str
    error_ratio: str
    nonfinite: str
    latency: Mapping[float, str]
    traffic: str
    traffic_1d: str
    traffic_1w: str
    model_traffic: str
    model_traffic_1d: str
    model_traffic_1w: str
    change_1d: str
    change_1w: str

    @classmethod
    def of(cls, options: ExportOptions) -> RecordedNames:
        rw, tw = options.rate_window, options.traffic_window
        quantiles = sorted({*LATENCY_QUANTILES, options.latency_quantile})
        return cls(
            requests=f"model_version:keeneye_predictions:rate{rw}",
            errors=f"model_version:keeneye_prediction_errors:rate{rw}",
            error_ratio=f"model_version:keeneye_prediction_errors:ratio_rate{rw}",
            nonfinite=f"model_version:keeneye_nonfinite_predictions:rate{rw}",
            latency={
                q: f"model_version:keeneye_prediction_latency_seconds:{_quantile_name(q)}_rate{rw}"
                for q in quantiles
            },
            traffic=f"model_version:keeneye_predictions:rate{tw}",
            traffic_1d=f"model_version:keeneye_predictions:rate{tw}_offset1d",
            traffic_1w=f"model_version:keeneye_predictions:rate{tw}_offset1w",
            model_traffic=f"model:keeneye_predictions:rate{tw}",
            model_traffic_1d=f"model:keeneye_predictions:rate{tw}_offset1d",
            model_traffic_1w=f"model:keeneye_predictions:rate{tw}_offset1w",
            change_1d=f"model:keeneye_predictions:change_rate{tw}_vs_1d",
            change_1w=f"model:keeneye_predictions:change_rate{tw}_vs_1w",
        )


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str

    def to_dict(self) -> dict[str, Any]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True)
class AlertRule:
    """One Prometheus alerting rule; ``summary``/``description`` are Go templates."""

    alert: str
    expr: str
    for_: str
    severity: str
    keeneye_rule: str
    summary: str
    description: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def all_labels(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            SOURCE_LABEL[0]: SOURCE_LABEL[1],
            "keeneye_rule": self.keeneye_rule,
            **self.labels,
        }

    def annotations(self, runbook_base_url: str) -> dict[str, str]:
        return {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": f"{runbook_base_url}#{self.alert.lower()}",
        }

    def to_dict(self, runbook_base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"alert": self.alert, "expr": self.expr}
        if duration_seconds(self.for_) > 0:
            out["for"] = self.for_
        out["labels"] = self.all_labels()
        out["annotations"] = self.annotations(runbook_base_url)
        return out


def recording_rules(options: ExportOptions) -> list[RecordingRule]:
    """Per model and version: rates, error ratio, latency quantiles, traffic now / 1d / 1w ago;
    per model: traffic and its change against a day and a week ago (the traffic alert's input).
    """
    n = RecordedNames.of(options)
    rw, tw = options.rate_window, options.traffic_window
    t = options.thresholds
    calls = f"sum by ({MV}) (rate({m.PREDICTIONS}[{rw}]))"
    # The error counter has no series until the first exception: "or calls * 0" keeps the
    # ratio at 0 (not absent) for a healthy model, so dashboards and alerts see a value.
    errors = f"sum by ({MV}) (rate({m.ERRORS}[{rw}]))"
    rules = [
        RecordingRule(n.requests, calls),
        RecordingRule(n.errors, f"{errors} or {calls} * 0"),
        # Failed calls make no prediction, so they are not in keeneye_predictions_total;
        # ">= 0" drops the NaN of 0/0 while a model is idle.
        RecordingRule(n.error_ratio, f"{n.errors} / ({n.errors} + {n.requests}) >= 0"),
        RecordingRule(n.nonfinite, f"sum by ({MV}) (rate({m.NONFINITE}[{rw}]))"),
    ]
    for q, name in n.latency.items():
        buckets = f"sum by ({MV}, le) (rate({m.LATENCY_BUCKET}[{rw}]))"
        rules.append(RecordingRule(name, f"histogram_quantile({_num(q)}, {buckets})"))
    rules += [
        RecordingRule(n.traffic, f"sum by ({MV}) (rate({m.PREDICTIONS}[{tw}]))"),
        RecordingRule(n.traffic_1d, f"sum by ({MV}) (rate({m.PREDICTIONS}[{tw}] offset 1d))"),
        RecordingRule(n.traffic_1w, f"sum by ({MV}) (rate({m.PREDICTIONS}[{tw}] offset 1w))"),
        # Traffic is compared per model: a new version has no history a day or a week ago.
        RecordingRule(n.model_traffic, f"sum by (model) (rate({m.PREDICTIONS}[{tw}]))"),
        RecordingRule(
            n.model_traffic_1d, f"sum by (model) (rate({m.PREDICTIONS}[{tw}] offset 1d))"
        ),
        RecordingRule(
            n.model_traffic_1w, f"sum by (model) (rate({m.PREDICTIONS}[{tw}] offset 1w))"
        ),
    ]
    window_s = _num(duration_seconds(tw))
    min_events = _num(t.traffic_min_events)
    rules.append(
        RecordingRule(
            n.change_1w,
            f"({n.model_traffic} / {n.model_traffic_1w} - 1)"
            f" and ({n.model_traffic_1w} * {window_s} >= {min_events})"
            f" and ({n.model_traffic_1w} > 0)",
        )
    )
    same_kind = _same_day_kind(options.weekend_days)
    rules.append(
        RecordingRule(
            n.change_1d,
            f"({n.model_traffic} / {n.model_traffic_1d} - 1)"
            f" and ({n.model_traffic_1d} * {window_s} >= {min_events})"
            f" and ({n.model_traffic_1d} > 0)" + (f" and on () ({same_kind})" if same_kind else ""),
        )
    )
    return rules


def _is_weekend(weekend_days: list[int], at: str) -> str:
    # Prometheus counts Sunday as 0; keeneye's settings count Monday as 0 (Python's weekday()).
    days = sorted((d + 1) % 7 for d in weekend_days)
    return " + ".join(f"(day_of_week({at}) == bool {d})" for d in days)


def _same_day_kind(weekend_days: list[int]) -> str:
    """A label-less vector that is present when now and a day ago are both weekdays or both
    weekend days (in UTC), as keeneye's traffic rule compares only days of the same kind."""
    if not weekend_days or len(weekend_days) == 7:
        return ""
    return (
        f"({_is_weekend(weekend_days, 'vector(time())')})"
        f" == ({_is_weekend(weekend_days, 'vector(time() - 86400)')})"
    )


def _outside(series: str, threshold: float) -> str:
    """``series`` beyond ±threshold, keeping the sign of the value."""
    return f"({series} > {_num(threshold)} or {series} < -{_num(threshold)})"


MVW = "model, version, window"


def _window_selector(windows: list[str]) -> str:
    """``window=~"daily|weekly"``: the window sizes whose results raise an alert."""
    return "window=~" + _string("|".join(_regex_escape(w) for w in windows))


def _enough(gauge: str, minimum: float) -> str:
    """keeneye's guard on a window's size: drop the alert when the window is known to hold
    fewer than ``minimum`` events or labels (a missing count does not silence it)."""
    return f" unless on ({MVW}) {gauge} < {_num(minimum)}"


def _bias_significant(min_z: float) -> str:
    """keeneye's significance guard of the bias rule: drop the alert when the bias is fewer
    standard errors from 0 than the window size's cut (:func:`min_z_for`)."""
    if min_z <= 0:
        return ""
    special = {w: min_z_for(w, min_z) for w in WINDOW_NAMES if min_z_for(w, min_z) != min_z}
    parts = [f'{m.PREDICTION_BIAS_Z}{{window="{w}"}} < {_num(z)}' for w, z in special.items()]
    others = "|".join(_regex_escape(w) for w in special)
    rest = f"{{window!~{_string(others)}}}" if others else ""
    parts.append(f"{m.PREDICTION_BIAS_Z}{rest} < {_num(min_z)}")
    return f" unless on ({MVW}) ({' or '.join(parts)})"


def _traffic_rules(options: ExportOptions) -> list[AlertRule]:
    n = RecordedNames.of(options)
    limit = options.thresholds.traffic_change
    critical = _num(2 * limit)
    severity = (
        f"{{{{ if or (ge $value {critical}) (le $value -{critical}) }}}}critical"
        "{{ else }}warning{{ end }}"
    )
    summary = "Traffic of model {{ $labels.model }} changed by {{ $value | humanizePercentage }}"
    w, d = _outside(n.change_1w, limit), _outside(n.change_1d, limit)
    cases = (
        # Both comparable: both must agree, so a one-off yesterday does not alert.
        ("day_and_week", f"{w} and on (model) {d}", "a week ago and a day ago"),
        ("week", f"{w} unless on (model) {n.change_1d}", "a week ago"),
        ("day", f"{d} unless on (model) {n.change_1w}", "a day ago"),
    )
    rules = []
    for compared_to, expr, words in cases:
        rules.append(
            AlertRule(
                alert="KeeneyeTrafficChange",
                expr=expr,
                for_=options.traffic_for,
                severity=severity,
                keeneye_rule="traffic",
                summary=summary,
                description=(
                    "Predictions per second of model {{ $labels.model }} over the last "
                    f"{options.traffic_window} differ by {{{{ $value | humanizePercentage }}}} "
                    f"from the same time {words} (threshold ±{limit:.0%}, compared only "
                    f"with windows of at least {options.thresholds.traffic_min_events} events)."
                ),
                labels={"compared_to": compared_to},
            )
        )
    return rules


def alerting_rules(options: ExportOptions) -> list[AlertRule]:
    """Every keeneye alerting rule for ``options`` (same thresholds as keeneye's own rules)."""
    n = RecordedNames.of(options)
    t = options.thresholds
    q = options.latency_quantile
    drift_windows = "{" + _window_selector(list(t.drift_windows)) + "}"
    events_guard = _enough(m.WINDOW_EVENTS, t.min_events)
    rules = _traffic_rules(options)
    rules += [
        AlertRule(
            alert="KeeneyeNonFinitePredictions",
            expr=f"sum by ({MV}) (increase({m.NONFINITE}[{options.rate_window}]))"
            f" > {_num(t.nonfinite_predictions)}",
            for_="0s",
            severity="critical",
            keeneye_rule="nonfinite_prediction",
            summary="Model {{ $labels.model }} v{{ $labels.version }} predicts NaN or infinity",
            description=(
                "{{ $value | humanize }} predictions of model {{ $labels.model }} version "
                f"{{{{ $labels.version }}}} were NaN or ±infinity in the last "
                f"{options.rate_window} (threshold: more than {t.nonfinite_predictions})."
            ),
        ),
        AlertRule(
            alert="KeeneyeHighErrorRatio",
            expr=f"{n.error_ratio} > {_num(options.error_ratio)}",
            for_=options.error_for,
            severity="critical",
            keeneye_rule="error_ratio",
            summary="Model {{ $labels.model }} v{{ $labels.version }} fails "
            "{{ $value | humanizePercentage }} of predict calls",
            description=(
                "{{ $value | humanizePercentage }} of the predict calls of model "
                "{{ $labels.model }} version {{ $labels.version }} raised over the last "
                f"{options.rate_window} (threshold {options.error_ratio:.0%}); "
                "keeneye_prediction_errors_total{exception} says which exception."
            ),
        ),
        AlertRule(
            alert="KeeneyeLatencySLO",
            expr=f"{n.latency[q]} > {_num(options.latency_slo_seconds)}",
            for_=options.latency_for,
            severity="warning",
            keeneye_rule="latency",
            summary="Model {{ $labels.model }} v{{ $labels.version }} is slow: "
            f"{_quantile_name(q)} latency {{{{ $value | humanizeDuration }}}}",
            description=(
                f"The {q:g} quantile of predict latency of model {{{{ $labels.model }}}} "
                f"version {{{{ $labels.version }}}} is {{{{ $value | humanizeDuration }}}} over "
                f"the last {options.rate_window}, above the SLO of "
                f"{options.latency_slo_seconds:g}s."
            ),
        ),
        *_peer_rules(options),
        AlertRule(
            alert="KeeneyeDatasetDrift",
            expr=f"{m.DATASET_DRIFT_SHARE}{drift_windows} >= {_num(t.drift_share)}" + events_guard,
            for_=options.drift_for,
            severity="critical",
            keeneye_rule="dataset_drift",
            summary="{{ $value | humanizePercentage }} of the features of model "
            "{{ $labels.model }} v{{ $labels.version }} drifted",
            description=(
                "keeneye's drift detector found {{ $value | humanizePercentage }} of the "
                "features of model {{ $labels.model }} version {{ $labels.version }} drifted "
                f"from the baseline in the latest {{{{ $labels.window }}}} window (threshold "
                f"{t.drift_share:.0%}); keeneye_feature_drifted says which."
            ),
        ),
    ]
    if t.drift_features:
        # keeneye's rule names the prediction "prediction"; its gauge is "__prediction__".
        named = [
            *t.drift_features,
            *(["__prediction__"] if "prediction" in t.drift_features else []),
        ]
        windows = _window_selector(list(t.drift_windows))
        selector = (
            "{" + windows + "}"
            if "*" in t.drift_features
            else "{feature=~"
            + _string("|".join(_regex_escape(f) for f in named))
            + ", "
            + windows
            + "}"
        )
        rules.append(
            AlertRule(
                alert="KeeneyeFeatureDrift",
                expr=f"{m.FEATURE_DRIFTED}{selector} == 1" + events_guard,
                for_=options.drift_for,
                severity="warning",
                keeneye_rule="feature_drift",
                summary="Feature {{ $labels.feature }} of model {{ $labels.model }} "
                "v{{ $labels.version }} drifted",
                description=(
                    "keeneye's drift detector found feature {{ $labels.feature }} of model "
                    "{{ $labels.model }} version {{ $labels.version }} drifted from the baseline "
                    "in the latest window; keeneye_feature_drift_score shows by how much."
                ),
            )
        )
    rules += [
        AlertRule(
            alert="KeeneyeMissingValues",
            # Without a baseline there is nothing to compare with (keeneye's rule is silent).
            expr=f"{m.FEATURE_MISSING} - on ({MV}, window, feature) {m.FEATURE_BASELINE_MISSING}"
            f" > {_num(t.missing_increase)}" + events_guard,
            for_=options.drift_for,
            severity="warning",
            keeneye_rule="missing_values",
            summary="Feature {{ $labels.feature }} of model {{ $labels.model }} "
            "v{{ $labels.version }} is missing more often",
            description=(
                "The missing share of feature {{ $labels.feature }} of model "
                "{{ $labels.model }} version {{ $labels.version }} rose by "
                "{{ $value | humanizePercentage }} above the baseline's in the latest window "
                f"(threshold {t.missing_increase:.0%})."
            ),
        ),
        AlertRule(
            alert="KeeneyeOutOfRange",
            expr=f"{m.FEATURE_OUT_OF_RANGE} > {_num(t.out_of_range)}" + events_guard,
            for_=options.drift_for,
            severity="warning",
            keeneye_rule="out_of_range",
            summary="Feature {{ $labels.feature }} of model {{ $labels.model }} "
            "v{{ $labels.version }} is out of range",
            description=(
                "{{ $value | humanizePercentage }} of the values of feature "
                "{{ $labels.feature }} of model {{ $labels.model }} version "
                "{{ $labels.version }} lie outside the baseline's range in the latest window "
                f"(threshold {t.out_of_range:.0%})."
            ),
        ),
        AlertRule(
            alert="KeeneyeOutlierShare",
            # the decision of keeneye's binomial test (at the alert budget's level) is exported
            # as 1/0: a threshold on the share here would ignore the window's size
            expr=f"{m.OUTLIER_SHARE_ALERT} == 1" + events_guard,
            for_=options.drift_for,
            severity="warning",
            keeneye_rule="outlier_share",
            summary="Model {{ $labels.model }} v{{ $labels.version }} receives too many outliers",
            description=(
                "The share of events of model {{ $labels.model }} version "
                "{{ $labels.version }} that are outliers against the baseline is improbably "
                "high in the latest {{ $labels.window }} window (binomial test at the alert "
                "budget's level); keeneye_outlier_share and keeneye_outlier_expected_share "
                "give the shares."
            ),
        ),
        AlertRule(
            alert="KeeneyeProbeBurst",
            expr=f"{m.PROBE_BURST_CLIENTS} > 0" + events_guard,
            for_=options.drift_for,
            severity="critical",
            keeneye_rule="probe_burst",
            summary="Model {{ $labels.model }} v{{ $labels.version }} is probed by "
            "{{ $value | humanize }} client(s)",
            description=(
                "{{ $value | humanize }} client(s) sent bursts of outliers or near-duplicate "
                "requests to model {{ $labels.model }} version {{ $labels.version }} in the latest "
                "{{ $labels.window }} window; keeneye's probe_burst alerts name them (hashed "
                "by the privacy policy)."
            ),
        ),
    ]
    for metric, low in sorted(t.performance_min.items()):
        rules.append(_performance_rule(metric, "<", low, options))
    for metric, high in sorted(t.performance_max.items()):
        rules.append(_performance_rule(metric, ">", high, options))
    rules += [
        AlertRule(
            alert="KeeneyePredictionBias",
            expr=_outside(
                f"({m.PREDICTION_BIAS_NORMALIZED} or {m.PREDICTION_BIAS})", t.prediction_bias
            )
            + _enough(m.WINDOW_LABELS, t.min_labels)
            + _bias_significant(t.prediction_bias_min_z),
            for_=options.drift_for,
            severity="warning",
            keeneye_rule="prediction_bias",
            summary="Predictions of model {{ $labels.model }} v{{ $labels.version }} are biased",
            description=(
                "The normalised prediction bias of model {{ $labels.model }} version "
                "{{ $labels.version }} is {{ $value | humanize }} (predicted vs observed, "
                f"threshold ±{t.prediction_bias:g})."
            ),
        ),
        AlertRule(
            alert="KeeneyeNoPredictions",
            # Only for a model seen for a whole period before the one without predictions: two
            # samples of a counter that was just scraped for the first time are not silence.
            expr=f"sum by (model) (increase({m.PREDICTIONS}[{options.stale_events_after}])) == 0"
            f" and on (model) sum by (model) (present_over_time({m.PREDICTIONS}"
            f"[{options.stale_events_after}] offset {options.stale_events_after}))",
            for_="0s",
            severity="warning",
            keeneye_rule="stale_events",
            summary="Model {{ $labels.model }} logged no prediction for "
            f"{options.stale_events_after}",
            description=(
                "The processes serving model {{ $labels.model }} are scraped but made no "
                f"prediction in the last {options.stale_events_after}: traffic stopped "
                "upstream, or requests no longer reach the model."
            ),
        ),
        AlertRule(
            alert="KeeneyeAnalysisStale",
            expr=f"time() - {m.ANALYSIS_LAST_RUN}"
            f" > {_num(duration_seconds(options.stale_analysis_after))}",
            for_="0s",
            severity="warning",
            keeneye_rule="stale_analysis",
            summary="keeneye server {{ $labels.instance }} has not analysed for "
            "{{ $value | humanizeDuration }}",
            description=(
                "The last statistics/drift run of the keeneye server {{ $labels.instance }} "
                "finished {{ $value | humanizeDuration }} ago (limit "
                f"{options.stale_analysis_after}): drift and quality alerts are blind."
            ),
        ),
        AlertRule(
            alert="KeeneyeEventsDropped",
            expr=f"sum by ({MV}, reason) (increase({m.SDK_DROPPED}[{options.rate_window}])) > 0",
            for_=options.error_for,
            severity="warning",
            keeneye_rule="events_dropped",
            summary="The keeneye SDK of model {{ $labels.model }} v{{ $labels.version }} "
            "drops events ({{ $labels.reason }})",
            description=(
                "{{ $value | humanize }} prediction events of model {{ $labels.model }} "
                "version {{ $labels.version }} could not be delivered to the keeneye server "
                f"in the last {options.rate_window} (reason {{{{ $labels.reason }}}}); "
                "predictions are unaffected, keeneye's statistics miss them."
            ),
        ),
        AlertRule(
            alert="KeeneyeTargetDown",
            expr=f'up{{job=~"{m.SERVER_JOB}|{m.MODELS_JOB}"}} == 0',
            for_=options.target_down_for,
            severity="critical",
            keeneye_rule="target_down",
            summary="{{ $labels.job }} target {{ $labels.instance }} is down",
            description=(
                "Prometheus cannot scrape {{ $labels.instance }} (job {{ $labels.job }}) for "
                f"{options.target_down_for}: its metrics and alerts are missing."
            ),
        ),
    ]
    return rules


def _peer_rules(options: ExportOptions) -> list[AlertRule]:
    """Twins of keeneye's ``estimated_performance`` and ``multivariate_drift`` rules (their
    gauges exist only for the models configured for them)."""
    t = options.thresholds
    drift_windows = "{" + _window_selector(list(t.drift_windows)) + "}"
    events_guard = _enough(m.WINDOW_EVENTS, t.min_events)
    losses = 'metric=~"mae|rmse"'
    estimate, limit = m.ESTIMATED_PERFORMANCE, m.ESTIMATED_PERFORMANCE_LIMIT
    return [
        AlertRule(
            alert="KeeneyeEstimatedPerformance",
            expr=f"(({estimate}{{{losses.replace('=~', '!~')}}} < {limit}) or "
            f"({estimate}{{{losses}}} > {limit})){events_guard}",
            for_=options.drift_for,
            severity="warning",
            keeneye_rule="estimated_performance",
            summary="estimated {{ $labels.metric }} of model {{ $labels.model }} "
            "v{{ $labels.version }} is beyond the baseline's range",
            description=(
                "The {{ $labels.method }} estimate of {{ $labels.metric }} of model "
                "{{ $labels.model }} version {{ $labels.version }} is {{ $value | humanize }} "
                "in the latest {{ $labels.window }} window, before its labels arrive: beyond "
                "keeneye_estimated_performance_limit, the baseline's range for that many rows."
            ),
        ),
        AlertRule(
            alert="KeeneyeMultivariateDrift",
            expr=f"{m.MULTIVARIATE_DRIFTED}{drift_windows} == 1" + events_guard,
            for_=options.drift_for,
            severity="warning",
            keeneye_rule="multivariate_drift",
            summary="multivariate drift ({{ $labels.method }}) in model {{ $labels.model }} "
            "v{{ $labels.version }}",
            description=(
                "keeneye's {{ $labels.method }} test found the joint distribution of the "
                "features of model {{ $labels.model }} version {{ $labels.version }} changed "
                "in the latest {{ $labels.window }} window (at its share of the alert budget)."
            ),
        ),
    ]


def _performance_rule(metric: str, op: str, limit: float, options: ExportOptions) -> AlertRule:
    word = "under" if op == "<" else "over"
    selector = f'{m.PERFORMANCE}{{metric="{metric}"}}'
    return AlertRule(
        alert="KeeneyePerformance",
        expr=f"{selector} {op} {_num(limit)}"
        + _enough(m.WINDOW_LABELS, options.thresholds.min_labels),
        for_=options.drift_for,
        severity="warning",  # as keeneye's performance rule
        keeneye_rule="performance",
        summary=f"{metric} of model {{{{ $labels.model }}}} v{{{{ $labels.version }}}} "
        f"is {word} {limit:g}",
        description=(
            f"{metric} of model {{{{ $labels.model }}}} version {{{{ $labels.version }}}} is "
            f"{{{{ $value | humanize }}}} on the labelled events of the latest window, "
            f"{word} the threshold of {limit:g}."
        ),
    )


def _string(text: str) -> str:
    """A PromQL double-quoted string literal (backslashes and quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _regex_escape(text: str) -> str:
    special = set("\\.^$*+?()[]{}|")
    return "".join("\\" + c if c in special else c for c in text)


def rule_files(options: ExportOptions) -> dict[str, dict[str, Any]]:
    """The two rule files as YAML-ready mappings, by file name."""
    # No per-group interval: groups follow prometheus.yml's evaluation_interval (and promtool's).
    return {
        "keeneye-recording.rules.yml": {
            "groups": [
                {
                    "name": "keeneye.recording",
                    "rules": [r.to_dict() for r in recording_rules(options)],
                }
            ]
        },
        "keeneye-alerts.rules.yml": {
            "groups": [
                {
                    "name": "keeneye.alerts",
                    "rules": [r.to_dict(options.runbook_base_url) for r in alerting_rules(options)],
                }
            ]
        },
    }
