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

    summaries = {r.version: r.payload for r in store.load_results("churn", kind="summary")}
    assert summaries["1"]["events"] == 200 and summaries["2"]["events"] == 100
    # Version 1's baseline has only "age"; "plan" is summarised from the window itself.
    assert set(summaries["1"]["features"]) == {"age", "plan"}
    # Version 2 never sent "plan": it is not reported as missing for it.
    assert set(summaries["2"]["features"]) == {"age"}

    drifts = {r.version: r.payload for r in store.load_results("churn", kind="drift")}
    assert drifts["1"]["reference"] == {
        "kind": "baseline",
        "version": "1",
        "reason": "the version's own training data",
    }
    assert drifts["2"]["reference"]["version"] == "1"
    assert drifts["2"]["reference"]["reason"] == "the live version's training data"
    assert [f["feature"] for f in drifts["2"]["features"]] == ["age"]
    traffic = store.load_results("churn", kind="traffic")
    assert [(t.version, t.payload["by_version"]) for t in traffic] == [("*", {"1": 200, "2": 100})]


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
    metrics = perf.payload["performance"]["metrics"]
    assert abs(metrics["roc_auc"] - skm.roc_auc_score(y, p1)) < 1e-12
    assert abs(metrics["log_loss"] - skm.log_loss(y, p1)) < 1e-12
    assert metrics["accuracy"] == skm.accuracy_score(y, (p1 >= 0.5).astype(int))
