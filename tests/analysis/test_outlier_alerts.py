"""The drift job's outlier section on a real store: a clean day raises no outlier alert, a day
with injected out-of-distribution rows raises the outlier-share alert, and a probing client's
near-duplicates raise a probe-burst alert naming it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
from tests.analysis.conftest import MONDAY, normal_rows

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline.register import register_baseline
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.store import EventStore
from keeneye.store.records import PredictionEvent


def settings() -> Settings:
    return Settings(
        analysis={
            "windows": ["daily"],
            "outliers": {"enabled": True, "client_key": "client"},
        }
    )


def write(store: EventStore, day: object, rows: list[dict[str, object]], prefix: str) -> None:
    step = timedelta(days=1) / len(rows)
    store.write_predictions(
        "churn",
        [
            PredictionEvent(f"{prefix}-{i}", "1", day + step * i, r, 0.5)  # type: ignore[operator]
            for i, r in enumerate(rows)
        ],
    )


def test_outlier_share_and_probe_bursts(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(5)
    base = normal_rows(rng, 3000)
    register_baseline(store, "churn", "1", pa.Table.from_pylist(base), now=MONDAY)
    clean = [{**r, "client": f"c{i % 30}"} for i, r in enumerate(normal_rows(rng, 600))]
    write(store, MONDAY, clean, "clean")
    tuesday = MONDAY + timedelta(days=1)
    dirty = [{**r, "client": f"c{i % 30}"} for i, r in enumerate(normal_rows(rng, 600))]
    dirty += [{"age": 120.0 + 0.001 * j, "plan": "pro", "client": "mallory"} for j in range(40)]
    write(store, tuesday, dirty, "dirty")
    clock.set(MONDAY + timedelta(days=2, minutes=5))

    run = AnalysisRunner(store, settings(), clock).run_once()
    by_day = {}
    for r in run.computed:
        if r.kind == "drift":
            by_day[r.window_start] = report_of(r).outliers
    monday, tue = by_day[MONDAY], by_day[tuesday]
    assert monday is not None and tue is not None
    assert not monday.alert and monday.bursts == ()
    assert monday.share < 0.05 and monday.expected_share > 0
    assert tue.alert and tue.outliers >= 40 and tue.p_value < tue.alpha
    assert [b.client for b in tue.bursts] == ["mallory"]

    alerts = {(a.rule, a.subject, a.window_start) for a in run.alerts}
    assert ("outlier_share", "outliers", tuesday) in alerts
    assert ("probe_burst", "mallory", tuesday) in alerts
    assert not any(
        rule in ("outlier_share", "probe_burst") and start == MONDAY for rule, _, start in alerts
    )


def test_off_by_default(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(6)
    register_baseline(store, "churn", "1", pa.Table.from_pylist(normal_rows(rng, 500)), now=MONDAY)
    write(store, MONDAY, normal_rows(rng, 100), "e")
    clock.set(MONDAY + timedelta(days=1, minutes=5))
    run = AnalysisRunner(store, Settings(analysis={"windows": ["daily"]}), clock).run_once()
    drift = [report_of(r) for r in run.computed if r.kind == "drift"]
    assert drift and all(r.outliers is None for r in drift)
