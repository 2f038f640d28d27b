"""promtool unit tests for the generated rules: input series → the alerts that must (and must
not) fire, written next to the rules so ``promtool test rules`` checks them wherever they are
deployed.

The scenarios are built from the same options as the rules (thresholds, windows, ``for``
durations), so a changed threshold keeps its tests meaningful. Two files: the traffic file
replays two weeks at 10-minute resolution (weekday/weekend pattern, a drop, a spike, a one-off
yesterday, a new model); the alerts file covers every other rule at 1-minute resolution.
Time 0 is 1970-01-01, a Thursday (UTC), as in promtool.

>>> from keeneye.integrations.prometheus.options import ExportOptions
>>> files = rule_test_files(ExportOptions())
>>> sorted(files)
['keeneye-alerts.test.yml', 'keeneye-traffic.test.yml']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keeneye.integrations.prometheus import metrics as m
from keeneye.integrations.prometheus.options import ExportOptions, duration_seconds, format_duration
from keeneye.integrations.prometheus.rules import (
    AlertRule,
    RecordedNames,
    alerting_rules,
)
from keeneye.integrations.prometheus.templates import render

RULE_FILES = ["keeneye-recording.rules.yml", "keeneye-alerts.rules.yml"]
#: promtool evaluates rule groups in random order unless told; the alerts read the recorded
#: series of the same step, so the recording group goes first (as Prometheus schedules it).
GROUP_EVAL_ORDER = ["keeneye.recording", "keeneye.alerts"]
DAY = 86400
TRAFFIC_STEP = 600  # seconds between samples (and evaluations) in the traffic scenarios
FAST_STEP = 60
WEEKDAY_RATE = 1.0  # predictions per second on a weekday in the traffic scenarios
WEEKEND_RATE = 0.5
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def _selector(name: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{inner}}}"


def _segments(parts: Sequence[tuple[int, float | None]], start: float = 0.0) -> str:
    """promtool's expanding notation for a counter that grows by ``step`` per sample for
    ``count`` samples in each part; ``None`` is ``count`` missing samples."""
    out: list[str] = []
    value = start
    first = True
    for count, step in parts:
        if count <= 0:
            continue
        if step is None:
            out.append(f"_x{count}")
            continue
        begin = value if first else value + step
        out.append(f"{_num(begin)}+{_num(step)}x{count - 1}")
        value = begin + step * (count - 1)
        first = False
    return " ".join(out)


def _gauge(value: float, samples: int) -> str:
    return f"{_num(value)}x{samples - 1}"


@dataclass(frozen=True)
class _Expect:
    """An alert that must fire: the labels of its series, the value it has, and (for rules with
    a templated severity) the severity that value must give."""

    rule: AlertRule
    labels: Mapping[str, str]
    value: float
    severity: str | None = None

    def to_dict(self, runbook_base_url: str) -> dict[str, Any]:
        labels = {**self.labels, **self.rule.all_labels()}
        if self.severity is not None:
            labels["severity"] = self.severity
        return {
            "exp_labels": labels,
            "exp_annotations": {
                k: render(v, labels, self.value)
                for k, v in self.rule.annotations(runbook_base_url).items()
            },
        }


def _alert_test(
    eval_seconds: float, alertname: str, expected: Sequence[_Expect], runbook_base_url: str
) -> dict[str, Any]:
    return {
        "eval_time": format_duration(eval_seconds),
        "alertname": alertname,
        "exp_alerts": [e.to_dict(runbook_base_url) for e in expected],
    }


def _num(value: float) -> str:
    """A number for promtool's series notation (never exponent form: '+' and '-' are operators
    there)."""
    text = repr(float(value))
    if "e" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text.removesuffix(".0")


def _weekend(day: int, weekend_days: Sequence[int]) -> bool:
    return (EPOCH_WEEKDAY + day) % 7 in weekend_days


def _traffic_tests(options: ExportOptions) -> list[dict[str, Any]]:
    t = options.thresholds
    limit = t.traffic_change
    names = RecordedNames.of(options)
    weekend = options.weekend_days
    window = duration_seconds(options.traffic_window)
    per_day = DAY // TRAFFIC_STEP
    runbook = options.runbook_base_url
    traffic_rules = [r for r in alerting_rules(options) if r.alert == "KeeneyeTrafficChange"]
    by_case = {r.labels["compared_to"]: r for r in traffic_rules}

    def base_rate(day: int) -> float:
        return WEEKEND_RATE if _weekend(day, weekend) else WEEKDAY_RATE

    def series(model: str, rate: Callable[[int, int], float | None], days: int) -> dict[str, str]:
        """A counter of ``model`` whose per-second rate in sample ``i`` of ``day`` is given."""
        parts: list[tuple[int, float | None]] = []
        for day in range(days):
            for i in range(per_day):
                r = rate(day, i)
                step = None if r is None else r * TRAFFIC_STEP
                if parts and parts[-1][1] == step:
                    parts[-1] = (parts[-1][0] + 1, step)
                else:
                    parts.append((1, step))
        labels = {"model": model, "version": "1", "job": m.MODELS_JOB, "instance": "m1"}
        return {"series": _selector(m.PREDICTIONS, labels), "values": _segments(parts)}

    tests: list[dict[str, Any]] = []
    # 1. A normal weekly pattern (weekend at half the weekday volume) raises nothing.
    saturday = next(
        (d for d in range(8, 15) if _weekend(d, weekend) and not _weekend(d - 1, weekend)), None
    )
    if saturday is not None:
        monday = next(d for d in range(saturday, saturday + 8) if not _weekend(d, weekend))
        noon = DAY // 2
        checks = sorted(
            {
                saturday * DAY + 3600 * 2,
                saturday * DAY + noon,
                (saturday + 1) * DAY + noon,
                monday * DAY + noon,
            }
        )
        days = monday + 1
        same_kind_day = saturday + 1 if _weekend(saturday + 1, weekend) else None
        promql: list[dict[str, Any]] = [
            {  # a weekend day is never judged against a weekday: no day-ago change at all
                "expr": names.change_1d,
                "eval_time": format_duration(saturday * DAY + noon),
                "exp_samples": [],
            },
            {
                "expr": names.change_1w,
                "eval_time": format_duration(saturday * DAY + noon),
                "exp_samples": [
                    {"labels": _selector(names.change_1w, {"model": "churn"}), "value": 0}
                ],
            },
        ]
        if same_kind_day is not None:
            promql.append(
                {
                    "expr": names.change_1d,
                    "eval_time": format_duration(same_kind_day * DAY + noon),
                    "exp_samples": [
                        {"labels": _selector(names.change_1d, {"model": "churn"}), "value": 0}
                    ],
                }
            )
        tests.append(
            {
                "name": "traffic: a normal weekend against last week raises no alert",
                "interval": format_duration(TRAFFIC_STEP),
                "input_series": [series("churn", lambda d, i: base_rate(d), days)],
                "alert_rule_test": [
                    _alert_test(s, "KeeneyeTrafficChange", [], runbook) for s in checks
                ],
                "promql_expr_test": promql,
            }
        )
    # 2. Incidents on a weekday whose day-ago and week-ago days are weekdays too.
    day = next(
        d for d in range(8, 15)
        if not any(_weekend(x, weekend) for x in (d, d - 1, d - 7))
    )  # fmt: skip
    start = 10 * 3600 // TRAFFIC_STEP  # the incident starts at 10:00
    for_s = duration_seconds(options.traffic_for)
    settle = start * TRAFFIC_STEP + window + for_s + 2 * TRAFFIC_STEP
    step = TRAFFIC_STEP
    drop, spike = 1 - (limit + 0.05), 1 + 2 * limit + 0.2
    thin = t.traffic_min_events / window * 0.9  # fewer events than comparisons need

    def during(d: int, i: int, factor: float, rate: float = WEEKDAY_RATE) -> float:
        return rate * factor if d == day and i >= start else base_rate(d) * rate / WEEKDAY_RATE

    def one_off_yesterday(d: int, i: int) -> float:
        return 2 * WEEKDAY_RATE if d == day - 1 else base_rate(d)

    def new_model(d: int, i: int) -> float | None:
        if d < day - 1:
            return None
        return during(d, i, drop)

    days = day + 1

    def severity(change: float) -> str:  # as keeneye's traffic rule: critical at twice the limit
        return "critical" if abs(change) >= 2 * limit else "warning"

    expected = [
        _Expect(by_case["day_and_week"], {"model": "churn"}, drop - 1, severity(drop - 1)),
        _Expect(by_case["day_and_week"], {"model": "fraud"}, spike - 1, severity(spike - 1)),
        _Expect(by_case["day"], {"model": "fresh"}, drop - 1, severity(drop - 1)),
    ]
    tests.append(
        {
            "name": "traffic: a drop and a spike alert; one-off yesterday and thin traffic do not",
            "interval": format_duration(step),
            "input_series": [
                series("churn", lambda d, i: during(d, i, drop), days),
                series("fraud", lambda d, i: during(d, i, spike), days),
                series("ads", one_off_yesterday, days),
                series("fresh", new_model, days),
                series("tiny", lambda d, i: during(d, i, 0.0, thin), days),
            ],
            "alert_rule_test": [
                _alert_test(day * DAY + start * step - step, "KeeneyeTrafficChange", [], runbook),
                _alert_test(day * DAY + settle, "KeeneyeTrafficChange", expected, runbook),
            ],
        }
    )
    return tests


def _fast_tests(options: ExportOptions) -> list[dict[str, Any]]:
    t = options.thresholds
    rules: dict[str, list[AlertRule]] = {}
    for r in alerting_rules(options):
        rules.setdefault(r.alert, []).append(r)
    rw = duration_seconds(options.rate_window)
    step = int(min(FAST_STEP, max(1, rw // 2)))  # two samples per rate window at least
    horizon = int(
        max(
            duration_seconds(options.stale_analysis_after),
            duration_seconds(options.stale_events_after),
            duration_seconds(options.latency_for),
            duration_seconds(options.error_for),
            duration_seconds(options.target_down_for),
        )
        + 2 * rw
        + 3600
    )
    samples = horizon // step + 1
    mv = {"model": "churn", "version": "3"}
    ok = {"model": "ok", "version": "1"}
    model_job = {"job": m.MODELS_JOB, "instance": "m1"}
    server_job = {"job": m.SERVER_JOB, "instance": "keeneye:8765"}
    series: list[dict[str, str]] = []
    tests: list[dict[str, Any]] = []

    def add(name: str, labels: Mapping[str, str], values: str) -> None:
        series.append({"series": _selector(name, labels), "values": values})

    def fire(at: float, alert: str, expected: Sequence[_Expect]) -> None:
        tests.append(_alert_test(at, alert, expected, options.runbook_base_url))

    # Requests, errors, latency, non-finite predictions and dropped events of two models.
    calls_per_step = 60.0
    ratio = min(2 * options.error_ratio, 0.9)
    errors_per_step = calls_per_step * ratio / (1 - ratio)
    for labels, errs in ((mv, errors_per_step), (ok, None)):
        add(m.PREDICTIONS, {**labels, **model_job}, _segments([(samples, calls_per_step)]))
        if errs is not None:  # the healthy model never raised: its error series does not exist
            add(
                m.ERRORS,
                {**labels, **model_job, "exception": "ValueError"},
                _segments([(samples, errs)]),
            )
    err_for = duration_seconds(options.error_for)
    fire(
        err_for + 2 * rw,
        "KeeneyeHighErrorRatio",
        [
            _Expect(
                rules["KeeneyeHighErrorRatio"][0],
                mv,
                errors_per_step / (errors_per_step + calls_per_step),
            )
        ],
    )

    slo = options.latency_slo_seconds
    for labels, low, high in ((mv, slo, 2 * slo), (ok, slo / 4, slo / 2)):
        for le, count in ((low, 0.0), (high, 10.0), (float("inf"), 10.0)):
            le_text = "+Inf" if le == float("inf") else repr(float(le))
            add(
                m.LATENCY_BUCKET,
                {**labels, **model_job, "le": le_text},
                _segments([(samples, count)]),
            )
    q = options.latency_quantile
    fire(
        duration_seconds(options.latency_for) + 2 * rw,
        "KeeneyeLatencySLO",
        [_Expect(rules["KeeneyeLatencySLO"][0], mv, slo + slo * q)],
    )

    burst = t.nonfinite_predictions + 3
    quiet = int(2 * rw // step)
    add(m.NONFINITE, {**mv, **model_job}, f"0x{quiet} {burst}x{samples - quiet - 2}")
    add(m.NONFINITE, {**ok, **model_job}, _gauge(0, samples))
    nonfinite = rules["KeeneyeNonFinitePredictions"][0]
    fire(quiet * step, "KeeneyeNonFinitePredictions", [])
    fire((quiet + 2) * step, "KeeneyeNonFinitePredictions", [_Expect(nonfinite, mv, burst)])
    fire((quiet + 2) * step + rw + step, "KeeneyeNonFinitePredictions", [])  # resolved

    add(m.SDK_DROPPED, {**mv, **model_job, "reason": "queue_full"}, _segments([(samples, 5.0)]))
    add(m.SDK_DROPPED, {**ok, **model_job, "reason": "queue_full"}, _gauge(0, samples))
    fire(
        err_for + 2 * rw,
        "KeeneyeEventsDropped",
        [
            _Expect(
                rules["KeeneyeEventsDropped"][0], {**mv, "reason": "queue_full"}, 5.0 * rw / step
            )
        ],
    )

    # A model whose counter stopped growing (the process is up, nothing is predicted).
    idle = {"model": "idle", "version": "1"}
    add(m.PREDICTIONS, {**idle, **model_job}, _gauge(100, samples))
    stale = duration_seconds(options.stale_events_after)
    # A model first scraped late, whose two first samples are equal: start-up, not silence.
    late_start = int((stale + 2 * rw) // step)
    fresh = {"model": "fresh", "version": "1"}
    add(m.PREDICTIONS, {**fresh, **model_job}, f"_x{late_start} " + _gauge(7, samples - late_start))
    no_predictions = rules["KeeneyeNoPredictions"][0]
    fire(
        stale + 2 * step, "KeeneyeNoPredictions", [_Expect(no_predictions, {"model": "idle"}, 0.0)]
    )
    fire(
        (late_start + 2) * step,
        "KeeneyeNoPredictions",
        [_Expect(no_predictions, {"model": "idle"}, 0.0)],
    )

    # A scrape target that goes down after ten minutes.
    down_at = 10
    add("up", {"job": m.MODELS_JOB, "instance": "m2"}, f"1x{down_at} 0x{samples - down_at - 2}")
    add("up", {"job": m.MODELS_JOB, "instance": "m1"}, _gauge(1, samples))
    down_for = duration_seconds(options.target_down_for)
    fire(
        down_at * step + down_for + 2 * step,
        "KeeneyeTargetDown",
        [_Expect(rules["KeeneyeTargetDown"][0], {"job": m.MODELS_JOB, "instance": "m2"}, 0.0)],
    )

    # The analysis gauges of keeneye server: one model beyond every threshold, one within.
    # keeneye server labels its result gauges with the window they describe; drift alerts
    # come from the window sizes of `drift_windows` only, as keeneye's own rule.
    alerting = t.drift_windows[0] if t.drift_windows else "daily"
    quiet_window = next(
        w for w in ("hourly", "daily", "weekly", "monthly") if w not in t.drift_windows
    )
    srv_mv = {**mv, "window": alerting, **server_job}
    srv_ok = {**ok, "window": alerting, **server_job}
    srv_quiet = {**mv, "window": quiet_window, **server_job}
    share_hi, share_lo = min(1.0, t.drift_share + 0.1), t.drift_share / 2
    add(m.DATASET_DRIFT_SHARE, srv_mv, _gauge(share_hi, samples))
    add(m.DATASET_DRIFT_SHARE, srv_ok, _gauge(share_lo, samples))
    add(m.DATASET_DRIFT_SHARE, srv_quiet, _gauge(share_hi, samples))
    at = 5 * step + duration_seconds(options.drift_for)
    fire(at, "KeeneyeDatasetDrift", [_Expect(rules["KeeneyeDatasetDrift"][0], srv_mv, share_hi)])

    if "KeeneyeFeatureDrift" in rules:
        named = [f for f in t.drift_features if f != "*"]
        watched = named[0] if named else "age"
        drifted = {**srv_mv, "feature": watched, "method": "ks"}
        add(m.FEATURE_DRIFTED, drifted, _gauge(1, samples))
        add(m.FEATURE_DRIFTED, {**srv_mv, "feature": "zz_calm", "method": "ks"}, _gauge(0, samples))
        add(
            m.FEATURE_DRIFTED, {**srv_quiet, "feature": watched, "method": "ks"}, _gauge(1, samples)
        )
        expected = [_Expect(rules["KeeneyeFeatureDrift"][0], drifted, 1.0)]
        if named:  # a drifted feature that nobody named must stay quiet
            add(
                m.FEATURE_DRIFTED,
                {**srv_mv, "feature": "zz_unnamed", "method": "chi2"},
                _gauge(1, samples),
            )
        fire(at, "KeeneyeFeatureDrift", expected)

    base, rise = 0.05, t.missing_increase + 0.1
    missing_hi = min(1.0, base + rise)
    age, plan = {**srv_mv, "feature": "age"}, {**srv_mv, "feature": "plan"}
    add(m.FEATURE_MISSING, age, _gauge(missing_hi, samples))
    add(m.FEATURE_BASELINE_MISSING, age, _gauge(base, samples))
    add(m.FEATURE_MISSING, plan, _gauge(t.missing_increase / 2, samples))  # no baseline: 0
    # "- on (model, version, feature)" keeps only those labels
    age_key = {**mv, "window": alerting, "feature": "age"}
    fire(
        at,
        "KeeneyeMissingValues",
        [_Expect(rules["KeeneyeMissingValues"][0], age_key, missing_hi - base)],
    )

    outside = min(1.0, t.out_of_range + 0.2)
    add(m.FEATURE_OUT_OF_RANGE, age, _gauge(outside, samples))
    add(m.FEATURE_OUT_OF_RANGE, plan, _gauge(t.out_of_range / 2, samples))
    fire(at, "KeeneyeOutOfRange", [_Expect(rules["KeeneyeOutOfRange"][0], age, outside)])

    add(m.OUTLIER_SHARE_ALERT, srv_mv, _gauge(1, samples))
    add(m.OUTLIER_SHARE_ALERT, srv_ok, _gauge(0, samples))
    fire(at, "KeeneyeOutlierShare", [_Expect(rules["KeeneyeOutlierShare"][0], srv_mv, 1.0)])
    add(m.PROBE_BURST_CLIENTS, srv_mv, _gauge(2, samples))
    add(m.PROBE_BURST_CLIENTS, srv_ok, _gauge(0, samples))
    fire(at, "KeeneyeProbeBurst", [_Expect(rules["KeeneyeProbeBurst"][0], srv_mv, 2.0)])

    bias = -(t.prediction_bias + 0.1)
    add(m.PREDICTION_BIAS, srv_mv, _gauge(bias, samples))
    add(m.PREDICTION_BIAS, srv_ok, _gauge(t.prediction_bias / 2, samples))
    fire(at, "KeeneyePredictionBias", [_Expect(rules["KeeneyePredictionBias"][0], srv_mv, bias)])

    perf: list[_Expect] = []
    perf_rules = iter(rules.get("KeeneyePerformance", []))
    for metric, low in sorted(t.performance_min.items()):
        labels = {**srv_mv, "metric": metric}
        add(m.PERFORMANCE, labels, _gauge(low - 0.1, samples))
        add(m.PERFORMANCE, {**srv_ok, "metric": metric}, _gauge(low + 0.1, samples))
        perf.append(_Expect(next(perf_rules), labels, low - 0.1))
    for metric, high in sorted(t.performance_max.items()):
        labels = {**srv_mv, "metric": metric}
        add(m.PERFORMANCE, labels, _gauge(high + 0.1, samples))
        add(m.PERFORMANCE, {**srv_ok, "metric": metric}, _gauge(high - 0.1, samples))
        perf.append(_Expect(next(perf_rules), labels, high + 0.1))
    if perf:
        fire(at, "KeeneyePerformance", perf)

    # One keeneye server last analysed at time 0; the other one analyses every minute.
    stuck = {"job": m.SERVER_JOB, "instance": "stuck:8765"}
    add(m.ANALYSIS_LAST_RUN, stuck, _gauge(0, samples))
    add(m.ANALYSIS_LAST_RUN, server_job, _segments([(samples, float(step))]))
    late = duration_seconds(options.stale_analysis_after) + 3600
    fire(late, "KeeneyeAnalysisStale", [_Expect(rules["KeeneyeAnalysisStale"][0], stuck, late)])

    names = RecordedNames.of(options)
    promql = [
        {  # a model that never raised has an error ratio of 0, not a missing series
            "expr": f'{names.error_ratio}{{model="ok"}}',
            "eval_time": format_duration(2 * rw),
            "exp_samples": [{"labels": _selector(names.error_ratio, ok), "value": 0}],
        }
    ]
    return [
        {
            "name": "every rule fires on its incident and stays quiet on healthy series",
            "interval": format_duration(step),
            "input_series": series,
            "alert_rule_test": tests,
            "promql_expr_test": promql,
        }
    ]


def traffic_tests_apply(options: ExportOptions) -> bool:
    """Whether the two-week traffic scenarios fit ``traffic_window`` (a multiple of their
    10-minute step, up to 6 h); a shorter window (seconds, for a demo or a test) gets none."""
    window = duration_seconds(options.traffic_window)
    return window % TRAFFIC_STEP == 0 and 0 < window <= 6 * 3600


def rule_test_files(options: ExportOptions) -> dict[str, dict[str, Any]]:
    """The promtool test files (YAML-ready mappings), by file name; they sit beside the rules."""
    rw = duration_seconds(options.rate_window)
    files = {
        "keeneye-alerts.test.yml": {
            "rule_files": RULE_FILES,
            "evaluation_interval": format_duration(min(FAST_STEP, max(1, rw // 2))),
            "group_eval_order": GROUP_EVAL_ORDER,
            "tests": _fast_tests(options),
        }
    }
    if traffic_tests_apply(options):
        files["keeneye-traffic.test.yml"] = {
            "rule_files": RULE_FILES,
            "evaluation_interval": format_duration(TRAFFIC_STEP),
            "group_eval_order": GROUP_EVAL_ORDER,
            "tests": _traffic_tests(options),
        }
    return files
