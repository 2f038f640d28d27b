"""The ``keeneye analyze`` / ``baseline register`` / ``worker`` commands against a real store
file, the background service loop, and the rolling (week-earlier) reference."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tests.conftest import Backend
from typer.testing import CliRunner

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.analysis.service import AnalysisService
from keeneye.cli import app
from keeneye.config import Settings
from keeneye.notify.alert import Alert
from keeneye.profile.stored import report_of
from keeneye.store import EventStore, open_store

from .conftest import MONDAY, write_day

UTC = timezone.utc


def test_cli_baseline_register_analyze_and_worker(backend: Backend, tmp_path: Path) -> None:
    path = backend.location(tmp_path)
    rng = np.random.default_rng(4)
    store = open_store(path)
    # Yesterday and the day before, on the wall clock (the CLI uses the system clock).
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for back in (2, 1):
        write_day(store, "churn", today - timedelta(days=back), 48, rng=rng)
    store.close()
    train = tmp_path / "train.parquet"
    pq.write_table(pa.table({"age": rng.normal(40, 10, 500), "plan": ["basic"] * 500}), train)

    runner = CliRunner()
    registered = runner.invoke(
        app, ["baseline", "register", "churn", "1", str(train), "--store", path]
    )
    assert registered.exit_code == 0, registered.output
    assert "baseline of churn v1: 500 rows, 2 columns (age, plan)" in registered.output

    missing = runner.invoke(
        app,
        ["baseline", "register", "churn", "1", str(tmp_path / "nope.csv"), "--store", path],
    )
    assert missing.exit_code == 2  # an input error, as compare's
    assert "does not exist" in missing.output

    since = (today - timedelta(days=2)).isoformat()
    until = today.isoformat()
    analyzed = runner.invoke(app, ["analyze", "--store", path, "--since", since, "--until", until])
    assert analyzed.exit_code == 0, analyzed.output
    # 2 days x (24 hours + 1 day) x 2 jobs
    assert "100 window job(s) computed" in analyzed.output

    assert "50% of features drifted (plan)" in analyzed.output  # "plan" is all "basic" in training
    again = runner.invoke(app, ["analyze", "--store", path, "--since", since, "--until", until])
    assert "0 window job(s) computed" in again.output
    worker = runner.invoke(app, ["worker", "stats", "--store", path, "--once"])
    assert worker.exit_code == 0, worker.output
    assert re.search(r"stats: \d+ window\(s\) computed", worker.output)  # today's hours

    bad = runner.invoke(app, ["worker", "sideways", "--store", path, "--once"])
    assert bad.exit_code == 2 and "'sideways' is not a job" in bad.output
    naive = runner.invoke(app, ["analyze", "--store", path, "--since", "2026-01-01"])
    assert naive.exit_code == 2 and "needs a UTC offset" in naive.output

    store = open_store(path)
    try:
        drift = store.load_results("churn", kind="drift", version="1")
        assert len(drift) == 50
    finally:
        store.close()


def test_service_runs_in_the_background_and_hands_alerts_over(
    store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(9)
    write_day(store, "churn", MONDAY, 50, rng=rng)
    clock.set(MONDAY + timedelta(days=1, hours=1))
    handed: list[tuple[list[Alert], datetime]] = []
    runner = AnalysisRunner(store, Settings(analysis={"windows": ["daily"]}), clock)
    service = AnalysisService(
        runner, 0.01, lambda alerts, now, _readings: handed.append((list(alerts), now))
    )
    service.start()
    try:
        deadline = time.monotonic() + 20
        while len(handed) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # bounded polling of a real background thread
    finally:
        service.stop()
    assert len(handed) >= 2
    assert handed[0][1] == clock.now()
    assert service.last_report is not None and service.last_error is None
    assert len(store.load_results("churn", kind="summary")) == 1


def test_rolling_reference_compares_with_the_week_before(
    store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(2)
    write_day(store, "churn", MONDAY, 300, rng=rng)
    shifted = lambda r, n: [{"age": float(a), "plan": "basic"} for a in r.normal(60, 10, n)]  # noqa: E731
    write_day(store, "churn", MONDAY + timedelta(days=7), 300, rng=rng, rows=shifted)
    clock.set(MONDAY + timedelta(days=8, hours=1))
    settings = Settings(analysis={"windows": ["daily"], "rolling_reference": ["churn"]})
    AnalysisRunner(store, settings, clock, jobs=("drift",)).run_once()
    (drift,) = store.load_results("churn", kind="drift", version="1")
    assert (drift.window_start - MONDAY).days == 7  # day 0 has no week-earlier data
    section = report_of(drift).drift
    assert section is not None and section.reference is not None
    assert section.reference.kind == "rolling"
    assert section["age"].drifted is True
