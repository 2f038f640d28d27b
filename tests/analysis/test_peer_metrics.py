"""The estimated-performance and multivariate-drift gauges on ``/metrics`` after a run inside
the collector app: the documented names and labels, and the values the stored reports hold."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from prometheus_client.parser import text_string_to_metric_families
from tests._peer_worlds import classifier_rows, write_window

from keeneye.analysis.clock import ManualClock
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.server.app import create_app
from keeneye.server.peer_metrics import PEER_GAUGES
from keeneye.store import EventStore

from .conftest import MONDAY
from .test_server_analysis import Client


def test_peer_gauges_show_the_latest_window(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(4)
    baseline = classifier_rows(rng, 3000)
    baseline["region"] = rng.choice(["north", "south"], 3000).astype(object)
    register_baseline(store, "clf", "1", baseline, now=clock.now())
    day = timedelta(days=1)
    for d in range(2):
        rows = classifier_rows(rng, 300, spread=1.0 if d == 0 else 0.3)
        rows["region"] = rng.choice(["north", "south"], 300).astype(object)
        write_window(
            store, "clf", MONDAY + d * day, day, rows, ("x1", "x2", "region"), prefix=f"d{d}",
            probabilities=True,
        )  # fmt: skip
    clock.set(MONDAY + 2 * day + timedelta(minutes=5))
    settings = Settings(
        analysis={
            "windows": ["daily"],
            "enabled": False,
            "estimate_performance": ["clf"],
            "multivariate": ["clf"],
            "multivariate_methods": ["pca_reconstruction"],
            "segments": {"clf": ["region"]},
            "online": {"clf": ["score", "x1"]},
            "online_detectors": ["adwin", "page_hinkley"],
        }
    )
    app = create_app(settings, store, clock=clock.now)
    try:
        client = Client(app)
        assert client.post("/v1/analysis/run").status_code == 200
        text = client.get("/metrics").text
        served = {}
        for kind in ("estimated", "multivariate", "segments", "online"):
            answer = client.get(f"/v1/models/clf/results?kind={kind}")
            assert answer.status_code == 200, answer.text
            served[kind] = answer.json()["results"]
    finally:
        app.state.notifier.close()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    base = {"model", "version", "window"}
    for name, (_, extra) in PEER_GAUGES.items():
        if name in (
            "keeneye_estimated_performance_error",
            "keeneye_segment_performance",
            "keeneye_segment_performance_drop",
        ):
            continue  # no label has landed: no error, no realized performance yet
        assert families[name].samples, name
        for sample in families[name].samples:
            assert set(sample.labels) == base | set(extra), (name, sample.labels)
    latest = [r for r in store.load_results("clf") if r.window_start == MONDAY + day]
    estimated = next(report_of(r).estimated for r in latest if r.kind == "estimated")
    assert estimated is not None
    accuracy = [
        s.value
        for s in families["keeneye_estimated_performance"].samples
        if s.labels["metric"] == "accuracy"
    ]
    assert accuracy == [estimated.metrics["accuracy"].value]
    limit = [
        s.value
        for s in families["keeneye_estimated_performance_limit"].samples
        if s.labels["metric"] == "accuracy"
    ]
    assert limit == [estimated.metrics["accuracy"].baseline_low]
    assert accuracy[0] < limit[0]  # the narrowed inputs: an alerting estimate, no labels
    multivariate = next(report_of(r).multivariate for r in latest if r.kind == "multivariate")
    assert multivariate is not None
    (test,) = multivariate.tests
    drifted = families["keeneye_multivariate_drifted"].samples
    assert [(s.labels["method"], s.value) for s in drifted] == [
        ("pca_reconstruction", float(bool(test.drifted)))
    ]
    statistic = families["keeneye_multivariate_drift_statistic"].samples
    assert [s.value for s in statistic] == [test.statistic]
    segments = next(report_of(r).segments for r in latest if r.kind == "segments")
    assert segments is not None
    shares = {s.labels["segment"]: s.value for s in families["keeneye_segment_share"].samples}
    assert shares == {s.value: s.share for s in segments.columns[0].segments}
    assert (
        "keeneye_estimated_performance_error" not in families
        or not families["keeneye_estimated_performance_error"].samples
    )
    # the results API serves the new kinds as typed report payloads
    for kind, results in served.items():
        assert len(results) == 2, kind  # two daily windows
        assert all(r["payload"]["format"] == 2 and kind in r["payload"] for r in results), kind
