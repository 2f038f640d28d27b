"""Done-when: labels sent three simulated days after their predictions update that window's
performance and label coverage (the window is re-opened and recomputed)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sklearn import metrics as skm

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.store import EventStore
from keeneye.store.records import PredictionEvent

from .conftest import MONDAY, labels_for, write_day


def test_late_labels_reopen_their_window(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(5)
    events = write_day(store, "churn", MONDAY, 300, rng=rng)
    write_day(store, "churn", MONDAY + timedelta(days=1), 300, rng=rng)
    settings = Settings(analysis={"windows": ["daily"]})
    runner = AnalysisRunner(store, settings, clock, jobs=("stats",))

    clock.set(MONDAY + timedelta(days=2, hours=1))
    first = runner.run_once()
    assert first.windows == 2
    (before,) = store.load_results(
        "churn", kind="performance", start=MONDAY, end=MONDAY + timedelta(days=1)
    )
    empty = report_of(before).performance
    assert empty is not None
    assert empty.labels == 0 and empty.label_coverage == 0.0
    assert empty.performance is None

    # Three simulated days later the ground truth of 70 % of Monday's predictions lands.
    clock.advance(days=3)
    landed = MONDAY + timedelta(days=3)
    labels = labels_for(events, landed, rng, share=0.7)
    store.write_labels("churn", labels)
    second = runner.run_once()
    recomputed = {(r.kind, (r.window_start - MONDAY).days) for r in second.computed}
    # Monday is re-opened; Tuesday (no new labels) is not recomputed; the new days are computed.
    assert ("performance", 0) in recomputed
    assert ("performance", 1) not in recomputed
    (after,) = store.load_results(
        "churn", kind="performance", start=MONDAY, end=MONDAY + timedelta(days=1)
    )
    section = report_of(after).performance
    assert section is not None and section.bias is not None
    assert section.labels == len(labels)
    assert section.label_coverage == pytest.approx(len(labels) / 300)
    assert section.task == "classification"

    by_id = {e.event_id: e for e in events}
    y = np.array([int(lab.label) for lab in labels])
    scores = np.array([float(by_id[lab.event_id].prediction) for lab in labels])
    predicted = (scores >= 0.5).astype(int)
    metrics = section.metrics
    assert metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted), abs=1e-12)
    assert metrics["f1"] == pytest.approx(skm.f1_score(y, predicted), abs=1e-12)
    assert metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)
    assert metrics["log_loss"] == pytest.approx(skm.log_loss(y, scores), abs=1e-12)
    assert section.bias.value == pytest.approx(predicted.mean() - y.mean(), abs=1e-12)
    delays = [(landed - by_id[lab.event_id].timestamp).total_seconds() for lab in labels]
    delay = section.label_delay
    assert delay.median_seconds == pytest.approx(np.median(delays))
    assert delay.max_seconds == pytest.approx(max(delays))
    assert delay.median_seconds is not None and 2 * 86400 < delay.median_seconds < 3 * 86400

    # A label replaced later (same count, newer time) re-opens the window once more.
    clock.advance(hours=2)
    fixed = labels[0].__class__(
        labels[0].event_id, 1 - int(labels[0].label), landed + timedelta(hours=2)
    )
    store.write_labels("churn", [fixed])
    third = runner.run_once()
    assert {(r.kind, (r.window_start - MONDAY).days) for r in third.computed} >= {
        ("performance", 0)
    }
    assert runner.run_once().windows == 0

    # An event that arrives late (Tuesday noon, sent days later) re-opens Tuesday's window.
    late = PredictionEvent(
        "late-1", "1", MONDAY + timedelta(days=1, hours=12), {"age": 33.0, "plan": "pro"}, 0.9
    )
    store.write_predictions("churn", [late])
    fourth = runner.run_once()
    assert {(r.kind, (r.window_start - MONDAY).days) for r in fourth.computed} == {
        ("traffic", 1),
        ("summary", 1),
        ("performance", 1),
    }
    (tuesday,) = store.load_results(
        "churn", kind="traffic", start=MONDAY + timedelta(days=1), end=MONDAY + timedelta(days=2)
    )
    traffic = report_of(tuesday).traffic
    assert traffic is not None and traffic.events == 301
