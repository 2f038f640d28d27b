"""A real ``keeneye server`` process on a free port: start, ingest, status, SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.conftest import free_port

from keeneye.store import PredictionEvent, open_store

KEENEYE = str(Path(sys.executable).parent / "keeneye")
TOKEN = "process-token"


def start_server(*args: str, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KEENEYE_SERVER__TOKEN", None)
    proc = subprocess.Popen(
        [KEENEYE, "server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"no URL in {line!r}; stderr: {proc.communicate()[1]}")
    url = match.group(1)
    deadline = time.monotonic() + 30
    while True:  # bounded readiness polling of the real server
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("server did not become ready in 30 s")
        time.sleep(0.05)


def status(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KEENEYE, "status", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        env={**os.environ, "COLUMNS": "160"},
    )


@pytest.mark.e2e
def test_server_process_ingests_reports_and_stops_cleanly(tmp_path: Path) -> None:
    store = tmp_path / "data" / "keeneye.duckdb"
    proc, url = start_server("--store", str(store), "--token", TOKEN, cwd=tmp_path)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        events = [
            {"event_id": f"e{i}", "inputs": {"x": i, "c": "a" if i % 2 else "b"}, "prediction": 1}
            for i in range(100)
        ]
        ack = httpx.post(
            f"{url}/v1/models/churn/predictions",
            json={"version": "2", "events": events},
            headers=headers,
            timeout=60,  # the first write creates the model's tables
        )
        assert ack.json() == {"stored": 100, "duplicates": 0, "invalid_values": {}}
        labels = [{"event_id": f"e{i}", "label": 1} for i in range(25)]
        httpx.post(
            f"{url}/v1/models/churn/labels", json={"labels": labels}, headers=headers, timeout=60
        )
        denied = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer wrong"})
        assert denied.status_code == 403
        shown = status("--url", url, "--token", TOKEN, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        row = next(line for line in shown.stdout.splitlines() if "churn" in line)
        assert re.search(r"churn\s*│\s*2\s*│\s*2\s*│\s*100\s*│\s*25\s*│\s*25\.0 %", row), row
        # DuckDB lets one process hold the file: a second server says so and exits.
        second = subprocess.run(
            [KEENEYE, "server", "--port", "0", "--store", str(store)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert second.returncode == 1
        assert "in use by another process (a running keeneye server?)" in second.stderr
        assert "--url" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "keeneye server stopped" in out
    assert TOKEN not in out + err
    # The store was closed: another process can open it, and the data is all there.
    offline = status("--store", str(store), cwd=tmp_path)
    assert offline.returncode == 0, offline.stderr
    assert re.search(r"churn.*100.*25", offline.stdout)


@pytest.mark.e2e
def test_status_falls_back_to_the_store_file_and_explains_failures(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    (tmp_path / "keeneye.yaml").write_text(f"server:\n  port: {port}\n  store: k.duckdb\n")
    failed = status(cwd=tmp_path)
    assert failed.returncode == 1
    assert f"no keeneye server answers at http://127.0.0.1:{port}" in failed.stderr
    assert "pass --store PATH" in failed.stderr
    store = open_store(tmp_path / "k.duckdb")  # the configured store file
    at = datetime(2026, 11, 27, tzinfo=UTC)
    store.write_predictions("fraud", [PredictionEvent("a", "7", at, {"x": 1}, 0.1)])
    store.close()
    offline = status(cwd=tmp_path)  # no server: the configured store file is read instead
    assert offline.returncode == 0, offline.stderr
    assert "k.duckdb" in offline.stdout
    assert re.search(r"fraud\s*│\s*7\s*│\s*7\s*│\s*1\s*│\s*0\s*│\s*0\.0 %", offline.stdout)


@pytest.mark.e2e
def test_refuses_a_public_interface_without_a_token(tmp_path: Path) -> None:
    refused = subprocess.run(
        [KEENEYE, "server", "--host", "0.0.0.0", "--port", "0", "--store", "s.duckdb"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "KEENEYE_SERVER__TOKEN"},
    )
    assert refused.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a token" in refused.stderr
    assert "--token" in refused.stderr and "--insecure" in refused.stderr
    assert not (tmp_path / "s.duckdb").exists()
