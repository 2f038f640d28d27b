"""The article's architecture as processes on one PostgreSQL store.

PostgreSQL from the Debian package; two collectors (``keeneye server --no-analysis``); two SDK
producers (one sends some of the other's events again through the other collector, and the
labels of the first go through the second); one statistics worker and two drift workers
(``keeneye worker``). The first drift worker is SIGKILLed in the middle of a window; its lease
lapses and the second drift worker takes over. Then: every window is computed exactly once
(an audit trigger records each computation of a window marker), the results equal those of a
single-process DuckDB run on the same events, and no acknowledged event is lost.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pyarrow as pa
import pytest
from tests._postgres import PostgresServer

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline.register import register_baseline
from keeneye.config import Settings
from keeneye.sdk import Monitor
from keeneye.store import LabelEvent, PredictionEvent, open_store

KEENEYE = shutil.which("keeneye") or str(Path(sys.executable).with_name("keeneye"))
HOURS = 8
PER_HOUR = 30
ENV = {
    "KEENEYE_ANALYSIS__WINDOWS": '["hourly"]',
    "KEENEYE_ALERTS__DRIFT_WINDOWS": '["hourly"]',
    "KEENEYE_ANALYSIS__GRACE_SECONDS": "0",
}
SETTINGS = Settings(
    analysis={"windows": ["hourly"], "grace_seconds": 0},
    alerts={"drift_windows": ["hourly"]},  # an alerts key (under analysis it was ignored)
)

AUDIT = """
CREATE TABLE computations (kind text, window_start timestamptz, computed_at timestamptz);
CREATE FUNCTION audit_marker() RETURNS trigger AS $$
BEGIN
  IF NEW.kind IN ('traffic', 'drift_window') THEN
    INSERT INTO computations VALUES (NEW.kind, NEW.window_start, NEW.computed_at);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_marker AFTER INSERT OR UPDATE ON results
  FOR EACH ROW EXECUTE FUNCTION audit_marker();
CREATE TRIGGER audit_marker AFTER INSERT OR UPDATE ON window_markers
  FOR EACH ROW EXECUTE FUNCTION audit_marker();
"""


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [KEENEYE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **ENV},
    )


def _first_line(proc: subprocess.Popen[str], pattern: str) -> re.Match[str]:
    assert proc.stdout is not None
    for _ in range(5):
        line = proc.stdout.readline()
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"no line matching {pattern!r}")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)  # bounded polling of real processes


@pytest.mark.e2e
def test_collectors_and_workers_share_one_postgresql_store(
    postgres_server: PostgresServer,
    processes: list[subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    url = postgres_server.create_database("e2e")
    store = open_store(url)  # creates the schema, then the audit trigger goes on it
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(AUDIT)  # type: ignore[arg-type]
    rng = np.random.default_rng(12)
    baseline = pa.table({"age": rng.normal(40, 10, 500), "plan": rng.choice(["basic", "pro"], 500)})
    register_baseline(store, "churn", "1", baseline)

    # -- two collectors, two producers ------------------------------------------------------
    servers = [_spawn("server", "--store", url, "--port", "0", "--no-analysis") for _ in range(2)]
    processes += servers  # started together: their start-ups overlap
    collectors = [_first_line(p, r"listening on (http://\S+)").group(1) for p in servers]
    for base in collectors:
        _wait(lambda b=base: _healthy(b), 30, f"{base} to be ready")

    now = datetime.now(UTC)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    acked: set[str] = set()

    def delivered(outcome: str, ids: object) -> None:
        if outcome == "sent":
            acked.update(ids)  # type: ignore[arg-type]

    monitors = [
        Monitor("churn", "1", url=c, on_delivery=delivered, flush_interval=0.1, batch_size=200)
        for c in collectors
    ]
    sent: list[tuple[str, datetime, dict[str, object], float]] = []
    for hour in range(HOURS):
        shift = 15.0 if hour >= HOURS // 2 else 0.0  # drift in the second half
        for i in range(PER_HOUR):
            at = start + timedelta(hours=hour, seconds=i * 3600 / PER_HOUR)
            inputs = {
                "age": float(rng.normal(40 + shift, 10)),
                "plan": str(rng.choice(["basic", "pro"])),
            }
            event_id = f"h{hour}-{i}"
            score = float(rng.uniform())
            monitors[i % 2].log(inputs, score, event_id=event_id, timestamp=at)
            sent.append((event_id, at, inputs, score))
    # Replays of producer 0's events through the other collector, and its labels there too.
    for event_id, at, inputs, score in sent[:60:2]:
        monitors[1].log(inputs, score, event_id=event_id, timestamp=at)
    for event_id, at, _, score in sent[::3]:
        monitors[1].log_label(event_id, int(score > 0.5), timestamp=at + timedelta(minutes=5))
    for monitor in monitors:
        assert monitor.flush(timeout=60)
        monitor.close()
    assert {e for e, *_ in sent} <= acked

    # -- workers: one stats, two drift; the first drift worker is killed mid-window ----------
    common = ["--store", url, "--interval", "0.5", "--lease-seconds", "3", "--metrics-port", "0"]
    stats = _spawn("worker", "stats", *common)
    drift_a = _spawn("worker", "drift", *common)
    processes += [stats, drift_a]
    metrics = _first_line(drift_a, r"metrics on (http://\S+)").group(1)
    owner_a = _first_line(drift_a, r"\((\S+)\): running").group(1)

    def a_holds_a_lease() -> bool:
        with psycopg.connect(url) as con:
            row = con.execute("SELECT count(*) FROM leases WHERE owner = %s", [owner_a]).fetchone()
            return bool(row and row[0])

    _wait(a_holds_a_lease, 60, "the first drift worker to claim a window")
    drift_a.send_signal(signal.SIGKILL)
    drift_a.wait()
    drift_b = _spawn("worker", "drift", *common)
    processes.append(drift_b)
    metrics_b = _first_line(drift_b, r"metrics on (http://\S+)").group(1)

    def markers(kind: str) -> int:
        return len(store.load_results("churn", kind=kind, version="*"))

    _wait(
        lambda: markers("drift_window") >= HOURS and markers("traffic") >= HOURS,
        120,
        "every window's markers",
    )
    time.sleep(1.5)  # a few more worker runs: none may compute a window again
    assert metrics.startswith("http://")
    scraped = httpx.get(metrics_b, timeout=5).text
    taken_over = re.search(r'keeneye_worker_windows_total\{job_kind="drift"\} (\S+)', scraped)
    assert taken_over is not None and float(taken_over.group(1)) >= 1
    assert 'keeneye_worker_lag_seconds{job_kind="drift"}' in scraped
    shown = subprocess.run(
        [KEENEYE, "status", "--store", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert shown.returncode == 0, shown.stderr
    for service in ("collector", "worker-stats", "worker-drift"):
        assert service in shown.stdout
    assert owner_a not in shown.stdout or "worker-drift" in shown.stdout

    # -- every window once -------------------------------------------------------------------
    with psycopg.connect(url) as con:
        repeats = con.execute(
            "SELECT kind, window_start, count(DISTINCT computed_at) FROM computations "
            "GROUP BY 1, 2 HAVING count(DISTINCT computed_at) > 1"
        ).fetchall()
        windows = con.execute("SELECT count(DISTINCT (kind, window_start)) FROM computations")
        computed = windows.fetchone()
    assert repeats == []
    assert computed is not None and computed[0] >= 2 * HOURS

    # -- no acknowledged event lost, replays stored once ---------------------------------------
    window = store.read_window("churn", start, start + timedelta(hours=HOURS + 1))
    ids = window.events.column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == HOURS * PER_HOUR
    assert acked <= set(ids)
    assert store.model_summary("churn").labels == len(sent[::3])

    # -- the same results as one DuckDB process on the same events ----------------------------
    reference = open_store(f"duckdb://{tmp_path / 'single.duckdb'}")
    events = [PredictionEvent(e, "1", at, inputs, score) for e, at, inputs, score in sent]
    reference.write_predictions("churn", events)
    reference.write_labels(
        "churn",
        [LabelEvent(e, int(s > 0.5), at + timedelta(minutes=5)) for e, at, _, s in sent[::3]],
    )
    register_baseline(reference, "churn", "1", baseline)
    clock = ManualClock(datetime.now(UTC))
    AnalysisRunner(reference, SETTINGS, clock).run_once()
    for kind in ("drift", "summary", "performance", "traffic"):
        ours = _by_window(store.load_results("churn", kind=kind))
        theirs = _by_window(reference.load_results("churn", kind=kind))
        shared = sorted(set(ours) & set(theirs))
        assert len([k for k in shared if k[0] < start + timedelta(hours=HOURS)]) >= HOURS
        for key in shared:
            assert ours[key] == theirs[key], (kind, key)
    drifted = [
        r
        for r in store.load_results("churn", kind="drift")
        if r.window_start >= start + timedelta(hours=HOURS // 2 + 1)
    ]
    assert drifted and all("age" in str(r.payload) for r in drifted)
    reference.close()
    store.close()
    # The killed worker's process is gone; the other services are still alive.
    assert drift_a.returncode == -signal.SIGKILL
    assert all(p.poll() is None for p in (stats, drift_b))


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/v1/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _by_window(results: list) -> dict:  # type: ignore[type-arg]
    return {(r.window_start, r.version): r.payload for r in results}
