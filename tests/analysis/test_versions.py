"""Results per model version: each version's own features, and the live version's baseline as
the reference of a version that has none."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sklearn import metrics as skm

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.report import ReferenceUsed
from keeneye.profile.stored import report_of
from keeneye.store import EventStore
from keeneye.store.records import LabelEvent, ModelVersion, PredictionEvent

from .conftest import MONDAY, write_day


def test_each_version_gets_its_results_and_falls_back_on_the_live_baseline(
    store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(12)
    store.register_version(ModelVersion("churn", "1", clock.now()), live=True)
    register_baseline(store, "churn", "1", {"age": rng.normal(40, 10, 800)}, now=clock.now())
    write_day(store, "churn", MONDAY, 200, rng=rng, version="1")
    only_age = lambda r, n: [{"age": float(a)} for a in r.normal(40, 10, n)]  # noqa: E731
    write_day(store, "churn", MONDAY, 100, rng=rng, version="2", rows=only_age, prefix="v2-")
    clock.set(MONDAY + timedelta(days=1, hours=1))
    AnalysisRunner(store, Settings(analysis={"windows": ["daily"]}), clock).run_once()

    summaries = {
        r.version: report_of(r).summary for r in store.load_results("churn", kind="summary")
    }
    one, two = summaries["1"], summaries["2"]
    assert one is not None and two is not None
    assert one.events == 200 and two.events == 100
    # Version 1's baseline has only "age"; "plan" is summarised from the window itself.
    assert set(one.features) == {"age", "plan"}
    # Version 2 never sent "plan": it is not reported as missing for it.
    assert set(two.features) == {"age"}

    drifts = {r.version: report_of(r).drift for r in store.load_results("churn", kind="drift")}
    d1, d2 = drifts["1"], drifts["2"]
    assert d1 is not None and d2 is not None
    assert d1.reference == ReferenceUsed("baseline", "1", "the version's own training data")
    assert d2.reference is not None and d2.reference.version == "1"
    assert d2.reference.reason == "the live version's training data"
    assert [f.feature for f in d2.features] == ["age"]
    traffic = store.load_results("churn", kind="traffic")
    by_version = [(t.version, report_of(t).traffic) for t in traffic]
    assert [(v, s.by_version if s else None) for v, s in by_version] == [
        ("*", {"1": 200, "2": 100})
    ]


def test_logged_probabilities_give_roc_auc_and_log_loss(
    store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(30)
    y = rng.integers(0, 2, 120)
    p1 = np.clip(0.3 * y + rng.uniform(0, 0.7, 120), 0.01, 0.99)
    events = [
        PredictionEvent(
            f"p{i}",
            "1",
            MONDAY + timedelta(minutes=10 * i),
            {"age": 40.0},
            int(p1[i] >= 0.5),
            probabilities={"0": float(1 - p1[i]), "1": float(p1[i])},
        )
        for i in range(120)
    ]
    store.write_predictions("churn", events)
    store.write_labels(
        "churn", [LabelEvent(e.event_id, int(y[i]), MONDAY) for i, e in enumerate(events)]
    )
    clock.set(MONDAY + timedelta(days=1, hours=1))
    settings = Settings(analysis={"windows": ["daily"]})
    AnalysisRunner(store, settings, clock, jobs=("stats",)).run_once()
    (perf,) = store.load_results("churn", kind="performance")
    section = report_of(perf).performance
    assert section is not None
    metrics = section.metrics
    assert abs(metrics["roc_auc"] - skm.roc_auc_score(y, p1)) < 1e-12
    assert abs(metrics["log_loss"] - skm.log_loss(y, p1)) < 1e-12
    assert metrics["accuracy"] == skm.accuracy_score(y, (p1 >= 0.5).astype(int))
