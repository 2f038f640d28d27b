"""Prediction bias of a probabilistic classifier is calibration-in-the-large: the mean
predicted probability against the observed positive rate, with its sampling error; class
shares only for hard predictions."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
from scipy import stats

from keeneye.analysis.performance import classification_bias, probability_bias
from keeneye.analysis.rules import bias_z, performance_rule
from keeneye.analysis.statistics import performance_section
from keeneye.config import AlertSettings
from keeneye.profile.report import Report
from keeneye.store.records import StoredResult

T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def _events(labels: list[object], predictions: list[object]) -> pa.Table:
    n = len(labels)
    times = [T0 + timedelta(seconds=i) for i in range(n)]
    return pa.table(
        {
            "timestamp": pa.array(times, pa.timestamp("us", tz="UTC")),
            "prediction": pa.array(predictions),
            "label": pa.array(labels),
            "label_timestamp": pa.array(
                [t + timedelta(days=60) for t in times], pa.timestamp("us", tz="UTC")
            ),
        }
    )


def _calibrated(
    rng: np.random.Generator, n: int, shift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    p = rng.beta(2, 3, n)  # mean 0.4: most scores below 0.5
    y = (rng.uniform(size=n) < p).astype(int)
    return np.clip(p + shift, 0.001, 0.999), y


def test_probability_bias_by_hand() -> None:
    rng = np.random.default_rng(1)
    p, y = _calibrated(rng, 500)
    labels = np.array([str(v) for v in y], dtype=object)
    labels[3] = None  # an unlabelled row does not count
    b = probability_bias(labels, p)
    assert b is not None and b.method == "calibration"
    keep = np.arange(500) != 3
    gap = p[keep].mean() - y[keep].mean()
    se = math.sqrt(np.sum(p[keep] * (1 - p[keep]))) / keep.sum()
    assert math.isclose(b.value, gap, rel_tol=1e-12)
    assert math.isclose(b.standard_error or 0, se, rel_tol=1e-12)
    assert math.isclose(b.z or 0, gap / se, rel_tol=1e-12)
    assert b.predicted == {"mean_probability": p[keep].mean()}
    assert b.observed == {"positive_rate": y[keep].mean()}


def test_z_is_standard_normal_for_calibrated_scores() -> None:
    rng = np.random.default_rng(2)
    zs = []
    for _ in range(400):
        p, y = _calibrated(rng, 300)
        b = probability_bias(np.array([str(v) for v in y], dtype=object), p)
        assert b is not None and b.z is not None
        zs.append(b.z)
    assert stats.kstest(zs, "norm").pvalue > 0.001
    assert abs(np.std(zs) - 1) < 0.1


def test_calibrated_classifier_is_quiet_where_class_shares_were_not() -> None:
    rng = np.random.default_rng(3)
    p, y = _calibrated(rng, 3000)
    section = performance_section(_events([int(v) for v in y], p.tolist()))
    bias = section.bias
    assert bias is not None and bias.method == "calibration" and bias.z is not None
    assert abs(bias.z) < 3
    # the old reading (probabilities cut at 0.5, class shares) reports a large bias here
    hard = np.array(["1" if v >= 0.5 else "0" for v in p], dtype=object)
    old = classification_bias(np.array([str(v) for v in y], dtype=object), hard, "1")
    assert old is not None and abs(old.value) > 0.1
    report = Report(window="daily", performance=section)
    result = StoredResult(
        "m", "1", "performance", T0, T0 + timedelta(days=1), T0, report.to_payload()
    )
    assert bias_z(section) == abs(bias.z)
    alerts = performance_rule(result, report, AlertSettings())
    assert not [a for a in alerts if a.rule == "prediction_bias"]


def test_overconfident_classifier_alerts() -> None:
    rng = np.random.default_rng(4)
    p, y = _calibrated(rng, 3000, shift=0.15)
    section = performance_section(_events([int(v) for v in y], p.tolist()))
    assert section.bias is not None and (section.bias.z or 0) > 10
    report = Report(window="daily", performance=section)
    result = StoredResult(
        "m", "1", "performance", T0, T0 + timedelta(days=1), T0, report.to_payload()
    )
    alerts = performance_rule(result, report, AlertSettings())
    (alert,) = [a for a in alerts if a.rule == "prediction_bias"]
    assert "mean predicted probability of class '1'" in alert.summary
    assert alert.value is not None and abs(alert.value - (section.bias.value or 0)) < 1e-12


def test_hard_predictions_keep_class_shares() -> None:
    labels = ["1", "0", "0", "0"] * 20
    preds = ["1", "1", "1", "0"] * 20
    section = performance_section(_events(labels, preds))
    assert section.bias is not None and section.bias.method == "class_share"
    assert section.bias.value == 0.5
