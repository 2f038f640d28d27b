"""Backfills run by the server: ``POST /v1/analysis/jobs`` over a past range with progress,
the conditions of past windows recorded in the alert history with their window times (fired
and resolved), notifications only for what is active now; and score drift."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.history import SOURCE
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.server.app import create_app
from keeneye.store import EventStore
from keeneye.store.records import PredictionEvent

from .conftest import MONDAY
from .test_server_analysis import Client, parquet_bytes


@pytest.fixture
def app_client(store: EventStore, clock: ManualClock) -> Iterator[tuple[Client, Any]]:
    settings = Settings(
        analysis={"windows": ["daily"], "enabled": False, "backfill_days": 1},
        alerts={"drift_features": ["*"]},
    )
    app = create_app(settings, store, clock=clock.now)
    yield Client(app), app
    app.state.notifier.close()


def _day(store: EventStore, day: int, rng: np.random.Generator, shifted: bool) -> None:
    at = MONDAY + timedelta(days=day)
    ages = rng.normal(70 if shifted else 40, 10, 200)
    scores = rng.uniform(0.5, 1.0, 200) if shifted else rng.uniform(0, 1, 200)
    store.write_predictions(
        "churn",
        [
            PredictionEvent(
                f"d{day}-{i}",
                "1",
                at + timedelta(minutes=7 * i),
                {"age": float(a)},
                int(s >= 0.5),
                probabilities={"0": float(1 - s), "1": float(s)},
            )
            for i, (a, s) in enumerate(zip(ages, scores, strict=True))
        ],
    )


def _wait(client: Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job = client.get(f"/v1/analysis/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_backfill_job_records_history_and_notifies_only_now(
    app_client: tuple[Client, Any], store: EventStore, clock: ManualClock
) -> None:
    client, app = app_client
    rng = np.random.default_rng(8)
    baseline = pa.table(
        {
            "age": rng.normal(40, 10, 2000),
            "prediction": (rng.uniform(size=2000) >= 0.5).astype(int),
            "score": rng.uniform(0, 1, 2000),
        }
    )
    put = client.put(
        "/v1/models/churn/versions/1/baseline",
        content=parquet_bytes(baseline),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert put.status_code == 201, put.text
    # Days 0-9 clean, 10-12 shifted, 13-19 clean again; "now" is 40 days later.
    for day in range(20):
        _day(store, day, rng, shifted=10 <= day <= 12)
    clock.set(MONDAY + timedelta(days=60))

    bad = client.post("/v1/analysis/jobs", json={"since": "2026-03-02T00:00:00"})
    assert bad.status_code == 400 and "UTC offset" in bad.json()["error"]["message"]
    assert client.get("/v1/analysis/jobs/nope").status_code == 404

    started = client.post(
        "/v1/analysis/jobs",
        json={"since": MONDAY.isoformat(), "until": (MONDAY + timedelta(days=20)).isoformat()},
    )
    assert started.status_code == 202, started.text
    job = _wait(client, started.json()["id"])
    assert job["state"] == "done", job
    assert job["done"] == job["total"] == 20  # 20 daily windows (both jobs each)
    assert job["result"]["windows"] == 40

    drift = {
        (r.window_start - MONDAY).days: report_of(r).drift
        for r in store.load_results("churn", kind="drift")
    }
    for day in range(20):
        section = drift[day]
        assert section is not None and section.prediction is not None
        by_name = {f.feature: f for f in section.features}
        assert set(by_name) == {"age", "score"}
        assert bool(by_name["score"].drifted_adjusted) is (10 <= day <= 12), day
        assert section.prediction.method == "chi_square"

    records = [r for r in store.list_alerts("churn", limit=10_000) if r.get("source") == SOURCE]
    age = sorted(
        (r["status"], (r["window_start"], r["window_end"]))
        for r in records
        if r["rule"] == "feature_drift" and r["subject"] == "age"
    )
    firing = [w for s, w in age if s == "firing"]
    resolved = [w for s, w in age if s == "resolved"]
    day = lambda d: (MONDAY + timedelta(days=d)).isoformat()  # noqa: E731
    assert firing == [(day(d), day(d + 1)) for d in (10, 11, 12)]
    assert resolved == [(day(12), day(13))]
    (gone,) = [
        r
        for r in records
        if r["status"] == "resolved" and r["subject"] == "age" and r["rule"] == "feature_drift"
    ]
    assert gone["at"] == day(14)  # seen resolved at the end of the next window

    # A late event re-opens day 11: it is computed again, its alerts are not recorded twice.
    store.write_predictions(
        "churn",
        [PredictionEvent("late", "1", MONDAY + timedelta(days=11, hours=5), {"age": 71.0}, 1)],
    )
    body = {"since": MONDAY.isoformat(), "until": (MONDAY + timedelta(days=20)).isoformat()}
    again = _wait(client, client.post("/v1/analysis/jobs", json=body).json()["id"])
    assert again["state"] == "done" and again["result"]["windows"] == 2
    after = [r for r in store.list_alerts("churn", limit=10_000) if r.get("source") == SOURCE]
    assert len(after) == len(records)
    # Past windows' alerts are history, not pages: nothing active now was handed over.
    assert app.state.notifier.active() == []


def test_a_condition_resolves_in_the_next_run(store: EventStore, clock: ManualClock) -> None:
    """The live loop computes one new window per run: a condition recorded by one run is
    resolved by the next run when the next window no longer has it."""
    from keeneye.analysis.history import record_history
    from keeneye.analysis.runner import AnalysisRunner
    from keeneye.baseline.register import register_baseline

    rng = np.random.default_rng(2)
    register_baseline(store, "churn", "1", pa.table({"age": rng.normal(40, 10, 2000)}))
    settings = Settings(analysis={"windows": ["daily"]}, alerts={"drift_features": ["age"]})
    runner = AnalysisRunner(store, settings, clock, jobs=("drift",))
    _day(store, 0, rng, shifted=True)
    clock.set(MONDAY + timedelta(days=1, hours=1))
    record_history(store, runner.run_once())
    _day(store, 1, rng, shifted=False)
    clock.set(MONDAY + timedelta(days=2, hours=1))
    record_history(store, runner.run_once())
    records = [
        (r["status"], r["window_start"], r["at"])
        for r in store.list_alerts("churn")
        if r.get("source") == SOURCE and r["rule"] == "feature_drift"
    ]
    start = MONDAY.isoformat()
    assert sorted(records) == [
        ("firing", start, (MONDAY + timedelta(days=1)).isoformat()),
        ("resolved", start, (MONDAY + timedelta(days=2)).isoformat()),
    ]
