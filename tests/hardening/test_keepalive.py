"""Defect 1: a reused (keep-alive) connection must answer as fast as a fresh one.

Without TCP_NODELAY on the accepted sockets, Nagle's algorithm held each keep-alive response
back until the client's delayed ACK (~40 ms on Linux). Measured as a ratio, not a time.
"""

from __future__ import annotations

import http.client
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import skops.io as sio
from tests.hardening.conftest import keeneye_server, serve_model
from tests.modelserver.models import fit, training_frame

ROUNDS = 15


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None) -> None:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    assert response.status < 500, response.status


def keepalive_ratio(url: str, method: str, path: str, body: bytes | None = None) -> float:
    """Median time of the 2nd request on one connection / median time on a fresh connection."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reused: list[float] = []
    fresh: list[float] = []
    for _ in range(ROUNDS):
        conn = http.client.HTTPConnection(host, port, timeout=10)
        started = time.perf_counter()
        _request(conn, method, path, body)  # connect + first request
        fresh.append(time.perf_counter() - started)
        started = time.perf_counter()
        _request(conn, method, path, body)  # the same connection, kept alive
        reused.append(time.perf_counter() - started)
        conn.close()
    return statistics.median(reused) / statistics.median(fresh)


@pytest.mark.e2e
def test_collector_keepalive_is_not_slower_than_a_fresh_connection(tmp_path: Path) -> None:
    with keeneye_server("--store", str(tmp_path / "k.duckdb"), cwd=tmp_path) as (url, _):
        body = b'{"version": "1", "events": [{"event_id": "%s", "inputs": {"x": 1.5}}]}'
        assert keepalive_ratio(url, "GET", "/v1/models") < 3.0
        ratio = keepalive_ratio(url, "POST", "/v1/models/m/predictions", body % b"a")
        assert ratio < 3.0, ratio


@pytest.mark.e2e
def test_serve_model_keepalive_is_not_slower_than_a_fresh_connection(tmp_path: Path) -> None:
    path = tmp_path / "churn.skops"
    sio.dump(fit(training_frame(seed=1)), path)
    with serve_model(path, "--keeneye-url", "http://127.0.0.1:9", cwd=tmp_path) as url:
        assert keepalive_ratio(url, "GET", "/v2/health/ready") < 3.0
        assert keepalive_ratio(url, "GET", "/metrics") < 3.0
