"""Alert rules over stored results, including the seasonal traffic decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import pytest

from keeneye.analysis.rules import evaluate
from keeneye.analysis.traffic import traffic_section
from keeneye.analysis.windows import window_at
from keeneye.config import AlertSettings
from keeneye.notify.alert import Severity
from keeneye.profile.report import (
    BiasStats,
    ConfusionMatrix,
    DriftSection,
    FeatureStats,
    PerformanceSection,
    PerformanceStats,
    PredictionStats,
    Report,
    SummarySection,
)
from keeneye.schema import FeatureKind
from keeneye.stats.results import FeatureDrift
from keeneye.store.records import StoredResult

UTC = timezone.utc
WEEKEND = frozenset({5, 6})


def result(
    kind: str, report: Report, when: datetime | None = None, size: str = "daily"
) -> StoredResult:
    """A stored result holding ``report`` (as the runner stores it: the report's JSON)."""
    window = window_at(size, when or datetime(2026, 3, 4, tzinfo=UTC))
    payload = replace(report, window=size).to_payload()
    return StoredResult("churn", "3", kind, window.start, window.end, window.end, payload)


def traffic(
    day: datetime,
    events: int,
    day_ago: int | None,
    week_ago: int | None,
    size: str = "daily",
) -> StoredResult:
    window = window_at(size, day)
    section = traffic_section(
        window, events, {"3": events}, {"day": day_ago, "week": week_ago}, WEEKEND
    )
    payload = Report(window=size, traffic=section).to_payload()
    return StoredResult("churn", "*", "traffic", window.start, window.end, window.end, payload)


def summary(
    events: int, nonfinite: int = 0, features: dict[str, FeatureStats] | None = None
) -> StoredResult:
    section = SummarySection(
        events=events, features=features or {}, prediction=PredictionStats(nonfinite=nonfinite)
    )
    return result("summary", Report(summary=section))


SAT = datetime(2026, 3, 7, tzinfo=UTC)  # a Saturday
MON = datetime(2026, 3, 9, tzinfo=UTC)
WED = datetime(2026, 3, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "events", "day_ago", "week_ago", "fires"),
    [
        (SAT, 500, 1000, 510, False),  # a normal Saturday: half of Friday, same as last Saturday
        (MON, 1000, 500, 990, False),  # a normal Monday after a Sunday
        (SAT, 280, 1000, 510, True),  # Saturday 45 % below last Saturday
        (MON, 550, 500, 1000, True),  # Monday 45 % below last Monday (+10 % on Sunday)
        (WED, 550, 1000, 1000, True),  # a weekday drop seen both ways
        (WED, 550, 1000, None, True),  # first week: the day-ago comparison decides alone
        (WED, 1000, 550, 1000, False),  # back to normal after a bad Tuesday
        (WED, 560, 1000, 1000, True),  # -44 %
        (WED, 620, 1000, 1000, False),  # -38 %: inside ±40 %
        (WED, 1450, 1000, 1000, True),  # +45 %: too much traffic alerts as well
        (SAT, 500, 1000, None, False),  # no comparable window at all
        (WED, 5, 10, 10, False),  # too few events to judge
    ],
)
def test_traffic_rule_is_seasonal(
    day: datetime, events: int, day_ago: int | None, week_ago: int | None, fires: bool
) -> None:
    alerts = evaluate([traffic(day, events, day_ago, week_ago)], AlertSettings())
    assert bool(alerts) is fires
    if fires:
        (alert,) = alerts
        assert alert.rule == "traffic" and alert.subject == "daily"
        assert alert.key == "churn/*/traffic/daily"
        assert alert.threshold == 0.4
        assert alert.value is not None and abs(alert.value) > 0.4


def test_traffic_alert_names_the_change() -> None:
    (alert,) = evaluate([traffic(MON, 550, 500, 1000)], AlertSettings())
    assert "45% below a week ago (1000)" in alert.summary
    assert alert.value == pytest.approx(-0.45)
    assert alert.details["compared_to"] == ["week"]


def test_nonfinite_prediction_rule() -> None:
    quiet = summary(100, nonfinite=0)
    loud = summary(100, nonfinite=2)
    assert evaluate([quiet], AlertSettings()) == []
    (alert,) = evaluate([loud], AlertSettings())
    assert alert.rule == "nonfinite_prediction" and alert.severity is Severity.CRITICAL
    assert alert.value == 2


def test_missing_and_out_of_range_rules() -> None:
    features = {
        "age": FeatureStats(missing_ratio=0.35, baseline_missing_ratio=0.02, out_of_range_ratio=0),
        "income": FeatureStats(
            missing_ratio=0.05, baseline_missing_ratio=0, out_of_range_ratio=0.6
        ),
        "plan": FeatureStats(missing_ratio=0.08, baseline_missing_ratio=0.0),
    }
    alerts = evaluate([summary(500, features=features)], AlertSettings())
    assert sorted((a.rule, a.subject) for a in alerts) == [
        ("missing_values", "age"),
        ("out_of_range", "income"),
    ]
    small = summary(10, features=features)
    assert evaluate([small], AlertSettings()) == []


def row(feature: str, drifted: bool, **changes: Any) -> FeatureDrift:
    base = FeatureDrift(
        feature=feature,
        kind=FeatureKind.NUMERIC,
        method="ks",
        statistic=0.3,
        p_value=1e-9 if drifted else 0.5,
        effect_size=0.3,
        effect_method="wasserstein",
        threshold=0.05,
        decided_by="p_value",
        drifted=drifted,
        reason=None,
        n_reference=1000,
        n_current=500,
        p_value_adjusted=4e-9 if drifted else 1.0,
        drifted_adjusted=drifted,
    )
    return replace(base, **changes)


def drift(
    share: float,
    verdicts: dict[str, bool],
    prediction: bool | None = None,
    size: str = "daily",
    **changes: Any,
) -> StoredResult:
    """A drift result; ``changes`` replace fields of the first feature's row."""
    rows = [row(f, d) for f, d in verdicts.items()]
    rows[0] = replace(rows[0], **changes)
    pred = None
    if prediction is not None:
        pred = row("prediction", prediction, statistic=0.2, p_value=0.001, p_value_adjusted=None)
    section = DriftSection(
        features=tuple(rows),
        drift_share=share,
        n_tested=len(rows),
        n_drifted=sum(verdicts.values()),
        events=500,
        n_current=500,
        prediction=pred,
    )
    return result("drift", Report(drift=section), size=size)


def test_drift_rules_dataset_share_and_named_features() -> None:
    one = drift(0.25, {"age": True, "plan": False, "income": False, "tenure": False}, True)
    assert evaluate([one], AlertSettings()) == []
    named = evaluate([one], AlertSettings(drift_features=["age", "prediction"]))
    assert sorted(a.subject for a in named) == ["__prediction__", "age"]
    anything = evaluate([one], AlertSettings(drift_features=["*"]))
    assert sorted(a.subject for a in anything) == ["__prediction__", "age"]
    many = drift(0.5, {"age": True, "plan": True, "income": False, "tenure": False})
    (dataset,) = evaluate([many], AlertSettings())
    assert dataset.rule == "dataset_drift" and dataset.value == 0.5
    assert dataset.details["drifted"] == ["age", "plan"]


def test_performance_and_bias_rules() -> None:
    section = PerformanceSection(
        events=400,
        labels=200,
        performance=PerformanceStats(metrics={"accuracy": 0.71, "f1": 0.8, "rmse": 3.0}),
        bias=BiasStats(value=0.15, normalized=0.15, subject="1"),
    )
    settings = AlertSettings(
        performance_min={"accuracy": 0.8, "f1": 0.7}, performance_max={"rmse": 2.5}
    )
    alerts = evaluate([result("performance", Report(performance=section))], settings)
    assert sorted((a.rule, a.subject) for a in alerts) == [
        ("performance", "accuracy"),
        ("performance", "rmse"),
        ("prediction_bias", "__prediction__"),
    ]
    few_labels = replace(section, labels=10)
    assert evaluate([result("performance", Report(performance=few_labels))], settings) == []


# -- traffic: the change must also be beyond Poisson noise ---------------------------------------
HOUR_MON = datetime(2026, 3, 9, 16, tzinfo=UTC)  # Monday 16:00
HOUR_TUE_NIGHT = datetime(2026, 3, 10, 4, tzinfo=UTC)  # Tuesday 04:00


@pytest.mark.parametrize(
    ("when", "events", "day_ago", "week_ago", "fires"),
    [
        # +40 % but |177 - 126| / sqrt(303) = 2.9 Poisson sigmas: noise at hourly counts
        (HOUR_MON, 177, 126, 126, False),
        (HOUR_MON, 126, 177, 177, False),  # the same the other way: -29 %, 2.9 sigmas
        # half traffic at the 16:00 peak: 100 vs 200 is 5.8 sigmas
        (HOUR_MON, 100, 200, 200, True),
        # half traffic at the 04:00 low: 45 vs 90 is -50 % and 3.9 sigmas
        (HOUR_TUE_NIGHT, 45, 90, 90, True),
        # 30 vs 60 is -50 % too, but only 3.2 sigmas against the day and 2.9 against the week
        (HOUR_TUE_NIGHT, 30, 60, 58, False),
    ],
)
def test_hourly_traffic_needs_poisson_significance(
    when: datetime, events: int, day_ago: int, week_ago: int, fires: bool
) -> None:
    alerts = evaluate([traffic(when, events, day_ago, week_ago, "hourly")], AlertSettings())
    assert bool(alerts) is fires
    if fires:
        (alert,) = alerts
        assert alert.subject == "hourly" and alert.details["window"] == "hourly"
    # with the significance requirement off, every ±40 % change alerts (the old behaviour)
    loose = evaluate(
        [traffic(when, events, day_ago, week_ago, "hourly")], AlertSettings(traffic_min_z=0)
    )
    assert bool(loose) is (abs(events / week_ago - 1) > 0.4 and abs(events / day_ago - 1) > 0.4)


def test_traffic_sigma_matches_the_poisson_test() -> None:
    """|a - b| / sqrt(a + b) is the normal approximation of the conditional binomial test of
    two Poisson counts (a given a + b is Binomial(a + b, 1/2) when both rates are equal): the
    3-sigma cut at 45 vs 90 agrees with scipy's exact test."""
    from scipy import stats

    assert stats.binomtest(45, 135, 0.5).pvalue < 2 * stats.norm.sf(3)
    assert stats.binomtest(177, 303, 0.5).pvalue > 2 * stats.norm.sf(3)


def test_half_traffic_day_alerts_at_daily_level() -> None:
    # a weekday at half of both the day before and the week before: thousands of events
    (alert,) = evaluate([traffic(WED, 1700, 3400, 3450)], AlertSettings())
    assert alert.value == pytest.approx(1700 / 3450 - 1)


# -- drift: the corrected verdict, the configured window sizes, one unit per message ------------
def test_feature_drift_uses_the_corrected_verdict() -> None:
    # significant alone (p = 0.02 < 0.05) but not after correcting for four tests
    chance = drift(
        0.25,
        {"age": True, "plan": False, "income": False, "tenure": False},
        p_value=0.02,
        p_value_adjusted=0.08,
        drifted=True,
        drifted_adjusted=False,
    )
    assert evaluate([chance], AlertSettings(drift_features=["*"])) == []


def test_drift_alerts_only_for_the_configured_window_sizes() -> None:
    hourly = [
        drift(0.5, {"age": True, "plan": True, "income": False, "tenure": False}, True, "hourly")
    ]
    assert (
        evaluate(hourly, AlertSettings(drift_features=["*"])) == []
    )  # neither dataset nor feature
    both = AlertSettings(drift_features=["*"], drift_windows=["hourly", "daily"])
    assert sorted(a.rule for a in evaluate(hourly, both)) == [
        "dataset_drift",
        "feature_drift",
        "feature_drift",
        "feature_drift",
    ]


def test_feature_drift_reports_the_quantity_that_decided() -> None:
    by_p = drift(0.25, {"age": True, "plan": False, "income": False, "tenure": False})
    (alert,) = evaluate([by_p], AlertSettings(drift_features=["age"]))
    # a p-value decision: the corrected p-value against alpha, not a distance against alpha
    assert alert.details["decided_by"] == "p_value"
    assert (alert.value, alert.threshold) == (4e-9, 0.05)
    assert "adjusted p-value 4e-09 < 0.05" in alert.summary

    by_effect = drift(
        0.25,
        {"age": True, "plan": False, "income": False, "tenure": False},
        decided_by="effect_size",
        effect_size=0.42,
        threshold=0.1,
        p_value_adjusted=1e-30,
    )
    (alert,) = evaluate([by_effect], AlertSettings(drift_features=["age"]))
    assert alert.details["decided_by"] == "effect_size"
    assert (alert.value, alert.threshold) == (0.42, 0.1)
    assert "wasserstein 0.42 >= 0.1" in alert.summary


# -- prediction bias: beyond the noise of a few misclassified rows ------------------------------
def bias_section(matrix: list[list[int]]) -> PerformanceSection:
    n = sum(map(sum, matrix))
    predicted = (matrix[0][1] + matrix[1][1]) / n
    observed = (matrix[1][0] + matrix[1][1]) / n
    return PerformanceSection(
        events=n,
        labels=n,
        performance=PerformanceStats(
            task="classification",
            n=n,
            metrics={"accuracy": (matrix[0][0] + matrix[1][1]) / n},
            confusion_matrix=ConfusionMatrix(("0", "1"), tuple(tuple(r) for r in matrix)),
        ),
        bias=BiasStats(value=predicted - observed, normalized=predicted - observed, subject="1"),
    )


def bias_result(matrix: list[list[int]], size: str) -> StoredResult:
    return result("performance", Report(performance=bias_section(matrix)), size=size)


@pytest.mark.parametrize(
    ("matrix", "size", "fires"),
    [
        # an hour of 60 rows, 7 false positives and none the other way: a 0.117 gap, 2.6 sigma
        ([[35, 7], [0, 18]], "hourly", False),
        # an hour of 150 rows leaning hard one way: 0.2 gap, 30 vs 0 is 5.5 sigma
        ([[70, 30], [0, 50]], "hourly", True),
        # a day: 3 400 rows, 450 false positives against 60 false negatives
        ([[1700, 450], [60, 1190]], "daily", True),
        # a day whose predictions are balanced: no gap, no alert
        ([[2000, 100], [100, 1200]], "daily", False),
    ],
)
def test_prediction_bias_needs_significance(
    matrix: list[list[int]], size: str, fires: bool
) -> None:
    alerts = evaluate([bias_result(matrix, size)], AlertSettings())
    assert [a.rule for a in alerts] == (["prediction_bias"] if fires else [])


def test_bias_sigma_matches_mcnemars_test() -> None:
    """|FP - FN| / sqrt(FP + FN) is McNemar's statistic: its two-sided normal tail equals
    scipy's chi-square (1 dof) p-value of the same statistic squared, and is close to the
    exact binomial test."""
    from scipy import stats

    from keeneye.analysis.rules import bias_z

    fp, fn = 30, 8
    z = bias_z(bias_section([[60, fp], [fn, 50]]))
    assert z == pytest.approx((fp - fn) / (fp + fn) ** 0.5)
    assert 2 * stats.norm.sf(z) == pytest.approx(stats.chi2.sf(z**2, 1))
    exact = stats.binomtest(fp, fp + fn, 0.5).pvalue
    assert exact == pytest.approx(2 * stats.norm.sf(z), rel=0.5)
