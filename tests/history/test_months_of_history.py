"""Done-when of issue 11 (deployment half): six months of seeded synthetic history — a binary
classifier logging its probabilities, an abrupt shift of four features and the score at a
known time, labels arriving 60-120 days after their predictions — replayed through a running
``keeneye server`` with the CLI and SDK only, and the right answers come out.

The model: ``y ~ Bernoulli(sigmoid(w·x))`` with five numeric features and one categorical; the
model scores ``sigmoid(w·x_observed)``. At the shift four features' sensors break
(``x_observed = x + 1 + N(0, 2.5)``): their distributions, the score's and the model's
ranking quality (AUC ~0.89 → ~0.65) all change at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from prometheus_client import CollectorRegistry
from sklearn import metrics as skm

from keeneye import Monitor
from keeneye.profile.report import Report

pytestmark = pytest.mark.e2e

KEENEYE = str(Path(sys.executable).with_name("keeneye"))
UTC = timezone.utc
DAYS = 180
PER_DAY = 300  # 54,000 predictions
SHIFT_DAY = 100  # the shift happens at the start of this day (80 days before today)
SHIFTED = ("f0", "f1", "f2", "f3")
WEIGHTS = np.array([1.0, 1.0, 1.0, 1.0, 1.2])
AUC_MIN = 0.75


def _score(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x @ WEIGHTS - 0.3)))


def _rows(rng: np.random.Generator, n: int, shifted: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Observed features and true labels of ``n`` rows."""
    x = rng.normal(0.0, 1.0, (n, 5))
    y = (rng.uniform(size=n) < _score(x)).astype(int)
    observed = x.copy()
    if shifted:
        observed[:, :4] = x[:, :4] + 1.0 + rng.normal(0.0, 2.5, (n, 4))
    frame = pd.DataFrame({f"f{i}": observed[:, i] for i in range(5)})
    frame["region"] = rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2])
    return frame, y


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    env = {
        **os.environ,
        "KEENEYE_ANALYSIS__WINDOWS": '["daily"]',
        "KEENEYE_ANALYSIS__INTERVAL_SECONDS": "3600",
        "KEENEYE_ALERTS__PERFORMANCE_MIN": json.dumps({"roc_auc": AUC_MIN}),
    }
    env.pop("KEENEYE_TOKEN", None)
    stderr = open(tmp_path / "server.stderr", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            KEENEYE,
            "server",
            "--store",
            str(tmp_path / "k.duckdb"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "listening on " in first, first
        url = first.rsplit("listening on ", 1)[1].strip()
        deadline = time.monotonic() + 60
        while True:  # bounded readiness poll
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "server not healthy"
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        stderr.close()


def _cli(*args: str) -> str:
    done = subprocess.run(
        [KEENEYE, *args], capture_output=True, text=True, timeout=300, env={**os.environ}
    )
    assert done.returncode == 0, f"keeneye {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _results(url: str, kind: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"kind": kind, "window": "daily", "limit": 10_000}
    while True:
        answer = httpx.get(f"{url}/v1/models/loans/results", params=params, timeout=60)
        assert answer.status_code == 200, answer.text
        out += answer.json()["results"]
        if answer.json()["next_cursor"] is None:
            return out
        params["cursor"] = answer.json()["next_cursor"]


def test_months_of_history_through_the_running_server(server: str, tmp_path: Path) -> None:
    url = server
    rng = np.random.default_rng(20261202)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS)
    shift = start + timedelta(days=SHIFT_DAY)

    # The training set (pre-shift), with the model's predictions and scores on it.
    train, y_train = _rows(rng, 5_000, shifted=False)
    train_scores = _score(train[[f"f{i}" for i in range(5)]].to_numpy())
    baseline = pa.Table.from_pandas(train, preserve_index=False)
    baseline = baseline.append_column("prediction", pa.array((train_scores >= 0.5).astype(int)))
    baseline = baseline.append_column("score", pa.array(train_scores))
    baseline = baseline.append_column("label", pa.array(y_train))
    pq.write_table(baseline, tmp_path / "train.parquet")
    out = _cli("baseline", "register", "loans", "1", str(tmp_path / "train.parquet"), "--url", url)
    assert "5000 rows" in out

    # Six months of production history, sent as a replay with log_batch.
    frames, labels, times, scores = [], [], [], []
    for day in range(DAYS):
        frame, y = _rows(rng, PER_DAY, shifted=day >= SHIFT_DAY)
        frames.append(frame)
        labels.append(y)
        offsets = np.sort(rng.uniform(0, 86_400, PER_DAY))
        times.extend(start + timedelta(days=day, seconds=float(s)) for s in offsets)
        scores.append(_score(frame[[f"f{i}" for i in range(5)]].to_numpy()))
    history = pd.concat(frames, ignore_index=True)
    y_all = np.concatenate(labels)
    s_all = np.concatenate(scores)
    predicted = (s_all >= 0.5).astype(int)
    n = len(history)
    ids = [f"loan-{i}" for i in range(n)]
    registry = CollectorRegistry()
    with Monitor("loans", "1", url=url, registry=registry) as monitor:
        sent = monitor.log_batch(
            history,
            predicted,
            probabilities=np.column_stack([1 - s_all, s_all]),
            classes=[0, 1],
            event_ids=ids,
            timestamps=times,
        )
    assert sent.stored == n == DAYS * PER_DAY

    # Every row is stored.
    models = httpx.get(f"{url}/v1/models", timeout=30).json()["models"]
    (loans,) = [m for m in models if m["model"] == "loans"]
    assert loans["events"] == n
    status = _cli("status", "--url", url)
    assert f"{n:,}" in status

    # The whole history, analysed by the server.
    since, until = start.isoformat(), today.isoformat()
    first = _cli("analyze", "--url", url, "--since", since, "--until", until)
    assert f"{2 * DAYS} window job(s) computed" in first

    drift = {
        datetime.fromisoformat(r["window_start"]): Report.from_payload(r["payload"]).drift
        for r in _results(url, "drift")
    }
    assert len(drift) == DAYS
    after = drift[shift]
    assert after is not None and after.prediction is not None
    flagged = {f.feature for f in after.features if f.drifted_adjusted}
    assert set(SHIFTED) | {"score"} <= flagged, after.features
    assert "f4" not in flagged and "region" not in flagged
    assert after.prediction.method == "chi_square"  # the class is a category

    # Labels arrive 60-120 days after their predictions; those due by now are sent.
    now = datetime.now(UTC)
    delays = rng.uniform(60, 120, n)
    label_times = [t + timedelta(days=float(d)) for t, d in zip(times, delays, strict=True)]
    due = np.array([lt <= now for lt in label_times])
    with Monitor("loans", "1", url=url, registry=registry) as monitor:
        answer = monitor.log_labels(
            [ids[i] for i in np.flatnonzero(due)],
            y_all[due],
            timestamps=[label_times[i] for i in np.flatnonzero(due)],
        )
    assert answer.stored == int(due.sum()) and answer.pending == 0

    # The next run recomputes exactly the windows whose labels changed (statistics job only).
    day_of = np.repeat(np.arange(DAYS), PER_DAY)
    labelled_days = sorted(set(day_of[due].tolist()))
    second = _cli("analyze", "--url", url, "--since", since, "--until", until)
    assert f"{len(labelled_days)} window job(s) computed" in second

    performance = {
        datetime.fromisoformat(r["window_start"]): Report.from_payload(r["payload"]).performance
        for r in _results(url, "performance")
    }
    checked = 0
    for day in range(DAYS):
        section = performance[start + timedelta(days=day)]
        assert section is not None
        rows = np.flatnonzero((day_of == day) & due)
        assert section.labels == len(rows)
        assert section.label_coverage == pytest.approx(len(rows) / PER_DAY)
        if len(rows) < 2 or len(set(y_all[rows].tolist())) < 2:
            continue
        got = section.metrics
        assert got["roc_auc"] == pytest.approx(
            skm.roc_auc_score(y_all[rows], s_all[rows]), abs=1e-9
        )
        assert got["accuracy"] == pytest.approx(
            skm.accuracy_score(y_all[rows], predicted[rows]), abs=1e-12
        )
        checked += 1
    assert checked >= 110

    # The alert history: every condition found in the analysed windows, with window times.
    lines = _cli("alerts", "--url", url, "--model", "loans", "--limit", "10000", "--json")
    history_records = [json.loads(line) for line in lines.splitlines() if line.strip()]
    found = [r for r in history_records if r.get("source") == "analysis"]
    assert found, "the history's alerts were not recorded"
    for r in found:
        assert r["window_start"] and r["window_end"]

    def fired(rules: tuple[str, ...]) -> list[dict[str, Any]]:
        return [r for r in found if r["rule"] in rules and r["status"] == "firing"]

    drift_alerts = fired(("dataset_drift", "feature_drift"))
    before = [r for r in drift_alerts if datetime.fromisoformat(r["window_start"]) < shift]
    assert before == [], before
    assert any(datetime.fromisoformat(r["window_start"]) == shift for r in drift_alerts)
    perf_alerts = fired(("performance",))
    assert perf_alerts
    early = [r for r in perf_alerts if datetime.fromisoformat(r["window_start"]) < shift]
    assert early == [], early
    assert {r["subject"] for r in perf_alerts} == {"roc_auc"}
    table = _cli("alerts", "--url", url, "--model", "loans", "--limit", "50")
    assert "dataset_drift" in table or "performance" in table
