"""`keeneye server` as a real process: the analysis loop runs in its lifespan, the results
reach `/metrics`, and the server shuts down cleanly with the loop running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.e2e

KEENEYE = str(Path(sys.executable).with_name("keeneye"))


def test_server_runs_the_analysis_and_exports_results(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KEENEYE_ANALYSIS__INTERVAL_SECONDS": "0.2",
        "KEENEYE_ANALYSIS__WINDOWS": '["daily"]',
        "KEENEYE_ALERTS__DRIFT_FEATURES": '["age"]',
    }
    store = tmp_path / "k.duckdb"
    proc = subprocess.Popen(
        [KEENEYE, "server", "--store", str(store), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=open(tmp_path / "stderr", "wb"),  # noqa: SIM115
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

        rng = np.random.default_rng(1)
        baseline = [{"age": float(a)} for a in rng.normal(40, 10, 300)]
        put = httpx.put(f"{url}/v1/models/churn/versions/1/baseline", json=baseline, timeout=30)
        assert put.status_code == 201, put.text
        yesterday = datetime.now(timezone.utc).replace(
            hour=0, minute=0, second=0, microsecond=0
        ) - timedelta(days=1)
        events = [
            {
                "event_id": f"e{i}",
                "timestamp": (yesterday + timedelta(minutes=3 * i)).isoformat(),
                "inputs": {"age": float(a)},
                "prediction": float(rng.uniform()),
            }
            for i, a in enumerate(rng.normal(70, 10, 400))
        ]
        posted = httpx.post(
            f"{url}/v1/models/churn/predictions",
            json={"version": "1", "events": events},
            timeout=30,
        )
        assert posted.status_code == 200, posted.text

        drifted: list[float] = []
        while not drifted:  # the loop picks the window up within a few ticks
            families = {
                f.name: f for f in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)
            }
            drifted = [
                s.value
                for s in families["keeneye_feature_drifted"].samples
                if s.labels
                == {
                    "model": "churn",
                    "version": "1",
                    "window": "daily",
                    "feature": "age",
                    "method": "ks",
                }
            ]
            assert time.monotonic() < deadline + 60, "no drift result on /metrics in time"
            time.sleep(0.1)
        assert drifted == [1.0]
        assert families["keeneye_analysis_last_run_timestamp_seconds"].samples[0].value > 0
        alerts = httpx.get(f"{url}/v1/alerts", params={"model": "churn"}).json()["alerts"]
        assert any(a.get("rule") == "feature_drift" for a in alerts)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0
