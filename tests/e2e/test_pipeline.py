"""End to end: instrumented predict function → SDK → `keeneye server` (a real process) → store.

The store-reading tests run on every backend (DuckDB file and PostgreSQL database).

Issue 3's "done when": the store holds exactly what was sent; a SIGKILLed collector loses no
acknowledged event and the SDK resumes on its own; with the collector down predictions go on
and the drop counter grows; malformed requests get the error envelope and store nothing.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import httpx
import pyarrow as pa
import pytest
from prometheus_client import CollectorRegistry
from tests.conftest import Backend

from keeneye.sdk import DROP_REASONS, Monitor
from keeneye.store import EventStore, open_store

pytestmark = pytest.mark.e2e

KEENEYE = str(Path(sys.executable).with_name("keeneye"))
START = 1_739_520_000.0  # event times are injected: 2025-02-14 08:00 UTC onwards (in the past)
WINDOW = (
    datetime.fromtimestamp(START - 10, timezone.utc),
    datetime.fromtimestamp(START + 10**6, timezone.utc),
)
EVERYTHING = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))


class ServerProcess:
    """`keeneye server` as a child process on 127.0.0.1; the URL is read from its first line."""

    def __init__(
        self,
        store: str | Path,
        *,
        logs: Path | None = None,
        port: int = 0,
        token: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        args = [
            KEENEYE,
            "server",
            "--store",
            str(store),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        if token:
            args += ["--token", token]
        stderr = logs if logs is not None else Path(str(store)).with_suffix(".stderr")
        self._stderr: IO[bytes] = open(stderr, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, **(env or {})},
        )
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        out = self.proc.stdout

        def pump() -> None:
            try:
                for line in out:
                    lines.put(line)
            except (ValueError, OSError):  # the pipe was closed by stop()/kill()
                pass

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 60
        self.url = ""
        while not self.url:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"keeneye server printed no URL in 60 s: {args}") from None
            if "listening on " in line:
                self.url = line.rsplit("listening on ", 1)[1].strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        while True:  # bounded readiness poll: the socket listens before the app has started
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("keeneye server did not become healthy within 60 s")
            time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._close_pipes()

    def _close_pipes(self) -> None:
        self._stderr.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self._close_pipes()


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for s in started:
        s.stop()


def read_store(location: str) -> tuple[dict[str, dict[str, Any]], EventStore]:
    store = open_store(location)
    window = store.read_window("churn", *EVERYTHING)
    rows = {}
    for event, features in zip(window.events.to_pylist(), window.features.to_pylist(), strict=True):
        rows[event["event_id"]] = {**event, "inputs": features}
    return rows, store


def record(i: int) -> dict[str, Any]:
    """Request ``i`` with its deliberate flaws (the first one is clean: it sets the types)."""
    r: dict[str, Any] = {
        "request_id": f"r{i:05d}",
        "age": "cat" if i % 97 == 5 else 18 + i % 60,
        "plan": ["basic", "pro", "team"][i % 3],
        "score": math.nan if i % 89 == 3 else (i % 1000) / 10,
        "income": 1000.0 + i,
    }
    if i % 83 == 7:
        del r["income"]  # a missing feature
    if i < 6000 and i % 79 == 2:
        r["loyalty"] = 1.0  # not in version 3's registered schema: an unknown feature
    return r


def predicted(r: dict[str, Any], i: int) -> float:
    return math.nan if i % 101 == 50 else (r["score"] if isinstance(r["age"], int) else -1.0)


def test_store_holds_exactly_what_was_sent(
    tmp_path: Path, servers: list[ServerProcess], backend: Backend
) -> None:
    path = backend.location(tmp_path)
    store = open_store(path)
    try:  # version 3's training data fixes its feature schema
        store.save_baseline(
            "churn",
            "3",
            pa.table({"age": [30], "plan": ["pro"], "score": [1.5], "income": [900.0]}),
        )
    finally:
        store.close()
    server = ServerProcess(path, logs=tmp_path / "server.stderr")
    servers.append(server)
    n, switch = 10_000, 6000  # version 3 serves the first 6000 requests, version 4 the rest
    ticks = iter(range(10**6))
    clock = lambda: START + next(ticks) * 0.01  # noqa: E731
    label_ticks = iter(range(10**6))
    label_clock = lambda: START + 86_400 + next(label_ticks) * 0.01  # noqa: E731
    registry = CollectorRegistry()
    kw = {"url": server.url, "registry": registry, "flush_interval": 0.05, "max_retries": None}
    v3 = Monitor("churn", "3", clock=clock, **kw)  # type: ignore[arg-type]
    v4 = Monitor("churn", "4", clock=clock, **kw)  # type: ignore[arg-type]
    labeller = Monitor("churn", "3", clock=label_clock, **kw)  # type: ignore[arg-type]
    v3.register_version(training_data="dvc:abc123", git_sha="0a1b2c")
    v3_predict = v3.watch(id_key="request_id")(predicted)
    v4_predict = v4.watch(id_key="request_id")(predicted)

    labelled = [i for i in range(n) if i % 2 == 0]
    early = labelled[:300]  # labels sent before their predictions exist
    for i in early:
        labeller.log_label(f"r{i:05d}", i % 3)
    assert labeller.flush(timeout=60)

    requests = [record(i) for i in range(n)]
    for i, r in enumerate(requests):
        if i == switch:
            v4.register_version(training_data="dvc:def456")
        out = (v3_predict if i < switch else v4_predict)(dict(r), i)
        expected = predicted(r, i)
        assert out == expected or (math.isnan(out) and math.isnan(expected))
    assert v3.flush(timeout=60) and v4.flush(timeout=60)
    for i in labelled[300:]:
        labeller.log_label(f"r{i:05d}", i % 3)
    assert labeller.flush(timeout=60)

    summary = httpx.get(f"{server.url}/v1/models/churn", timeout=10).json()
    assert summary["events"] == n and summary["labels"] == n // 2
    assert summary["versions"] == ["3", "4"] and summary["live_version"] == "4"
    assert summary["label_coverage"] == pytest.approx(0.5)
    stats = [m.stats() for m in (v3, v4, labeller)]
    for m in (v3, v4, labeller):
        m.close()
    assert [s["sent"] for s in stats] == [switch, n - switch, n // 2]
    assert all(sum(s["dropped"].values()) == 0 and s["pending"] == 0 for s in stats)
    assert (
        registry.get_sample_value("keeneye_predictions_total", {"model": "churn", "version": "3"})
        == switch
    )
    nonfinite = sum(math.isnan(predicted(requests[i], i)) for i in range(switch))
    assert (
        registry.get_sample_value(
            "keeneye_nonfinite_predictions_total", {"model": "churn", "version": "3"}
        )
        == nonfinite
    )
    server.stop()

    rows, store = read_store(path)
    try:
        assert len(rows) == n
        for i, r in enumerate(requests):
            row = rows[f"r{i:05d}"]
            assert row["version"] == ("3" if i < switch else "4")
            assert row["timestamp"].timestamp() == pytest.approx(START + i * 0.01, abs=1e-5)
            got = row["inputs"]
            assert got["plan"] == r["plan"]
            assert got["age"] == (None if r["age"] == "cat" else r["age"])  # invalid → NULL marker
            assert got["income"] == r.get("income")
            assert (math.isnan(got["score"]) and math.isnan(r["score"])) or got["score"] == r[
                "score"
            ]
            want = predicted(r, i)
            assert (math.isnan(row["prediction"]) and math.isnan(want)) or row["prediction"] == want
            assert row["latency_seconds"] is not None and row["latency_seconds"] >= 0
            if i % 2 == 0:
                assert row["label"] == i % 3
                assert row["label_timestamp"] is not None
            else:
                assert row["label"] is None
        for version, ids in (("3", range(switch)), ("4", range(switch, n))):
            sent = [requests[i] for i in ids]
            expected: dict[str, dict[str, int]] = {
                "age": {"type": sum(r["age"] == "cat" for r in sent)},
                "income": {"missing": sum("income" not in r for r in sent)},
            }
            with_loyalty = sum("loyalty" in r for r in sent)
            if with_loyalty:
                # unknown to the registered schema; once sent, its absence elsewhere is missing
                expected["loyalty"] = {
                    "unknown_feature": with_loyalty,
                    "missing": len(sent) - with_loyalty,
                }
            got = store.invalid_value_counts("churn", *WINDOW, version=version)
            assert {k: dict(v) for k, v in got.items()} == expected, version
    finally:
        store.close()


def test_sigkill_mid_stream_loses_nothing_acknowledged(
    tmp_path: Path, servers: list[ServerProcess], backend: Backend
) -> None:
    path = backend.location(tmp_path)
    first = ServerProcess(path, logs=tmp_path / "server.stderr")
    servers.append(first)
    acked: set[str] = set()
    undelivered: set[str] = set()
    lock = threading.Lock()

    def on_delivery(outcome: str, ids: Any) -> None:
        with lock:
            (acked if outcome == "sent" else undelivered).update(ids)

    registry = CollectorRegistry()
    m = Monitor(
        "churn",
        "3",
        url=first.url,
        registry=registry,
        queue_size=400,
        batch_size=100,
        flush_interval=0.02,
        max_retries=4,
        backoff_base=0.05,
        backoff_cap=0.4,
        on_delivery=on_delivery,
    )

    @m.watch(id_key="request_id")
    def predict(r: dict[str, Any]) -> float:
        return r["x"] * 2.0

    logged: list[str] = []

    def stream(start: int, count: int) -> None:
        for i in range(start, start + count):  # ~2 s per 2000 calls: batches are in flight
            assert predict({"request_id": f"k{i:05d}", "x": float(i)}) == i * 2.0
            logged.append(f"k{i:05d}")
            if i % 50 == 0:
                time.sleep(0.05)

    stream(0, 2000)
    deadline = time.monotonic() + 30  # on a loaded machine the first batches may still be queued
    while not acked and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()  # in the middle of the stream, without warning
    before_restart = len(acked)
    assert before_restart > 0
    stream(2000, 2000)  # collector down: calls go on, the queue fills and overflows
    second = ServerProcess(path, port=first.port, logs=tmp_path / "server.stderr")  # same store
    servers.append(second)
    stream(4000, 2000)
    assert m.flush(timeout=60)
    stats = m.stats()
    m.close()
    second.stop()
    print("sigkill run:", stats, "acked before restart:", before_restart)

    assert len(acked) > before_restart  # the SDK resumed on its own
    assert stats["offered"] == len(logged) == 6000
    dropped = sum(stats["dropped"].values())
    assert dropped > 0 and stats["pending"] == 0
    assert stats["sent"] + dropped == len(logged)  # every event is either sent or counted
    assert stats["sent"] == len(acked)
    for reason in DROP_REASONS:
        assert (
            registry.get_sample_value(
                "keeneye_sdk_dropped_events_total",
                {"model": "churn", "version": "3", "reason": reason},
            )
            == stats["dropped"][reason]
        )
    rows, store = read_store(path)
    store.close()
    assert acked <= set(rows)  # every acknowledged event survived the SIGKILL
    assert set(rows) <= set(logged)
    assert not acked & undelivered
    for eid in acked:
        assert rows[eid]["inputs"]["x"] == float(int(eid[1:]))


@pytest.fixture
def nobody_listening() -> Iterator[str]:
    """A URL whose port stays bound without listening: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_collector_down_predictions_go_on_and_drops_grow(nobody_listening: str) -> None:
    url = nobody_listening
    registry = CollectorRegistry()
    m = Monitor(
        "churn",
        "3",
        url=url,
        registry=registry,
        queue_size=200,
        batch_size=50,
        flush_interval=0.01,
        max_retries=2,
        backoff_base=0.01,
        backoff_cap=0.05,
    )

    @m.watch
    def predict(r: dict[str, Any]) -> float:
        return r["x"] + 1.0

    def total_dropped() -> float:
        return sum(
            registry.get_sample_value(
                "keeneye_sdk_dropped_events_total",
                {"model": "churn", "version": "3", "reason": reason},
            )
            or 0.0
            for reason in DROP_REASONS
        )

    seen = []
    for _ in range(3):
        for i in range(1000):
            assert predict({"x": float(i)}) == i + 1.0
        seen.append(total_dropped())
        time.sleep(0.05)
    assert 0 < seen[0] < seen[1] < seen[2]
    assert m.flush(timeout=30)
    stats = m.stats()
    m.close()
    assert stats["offered"] == 3000 and stats["sent"] == 0
    assert sum(stats["dropped"].values()) == 3000 == total_dropped()


def test_malformed_requests_get_the_error_envelope_and_store_nothing(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    server = ServerProcess(
        tmp_path / "events.duckdb", token="tok", env={"KEENEYE_SERVER__MAX_BATCH_EVENTS": "50"}
    )
    servers.append(server)
    url = f"{server.url}/v1/models/churn/predictions"
    auth = {"Authorization": "Bearer tok", "Content-Type": "application/json"}
    event = {"event_id": "e1", "version": "3", "inputs": {"x": 1.0}, "prediction": 0.5}
    cases: list[tuple[dict[str, str], bytes | None, Any, int, str, str]] = [
        (auth, b'{"events": [', None, 400, "invalid_json", ""),
        (auth, None, {"events": "not a list"}, 400, "invalid_request", "events"),
        (auth, None, {"events": [{**event, "inputs": [1, 2]}]}, 400, "invalid_request", "inputs"),
        (auth, None, {"events": [event] * 51}, 413, "batch_too_large", "50"),
        ({}, None, {"events": [event]}, 401, "unauthorized", "token"),
        ({"Authorization": "Bearer nope"}, None, {"events": [event]}, 403, "forbidden", "token"),
    ]
    with httpx.Client(timeout=10) as client:
        for headers, raw, body, status, code, mentions in cases:
            response = (
                client.post(url, headers=headers, content=raw)
                if raw is not None
                else (client.post(url, headers=headers, json=body))
            )
            assert response.status_code in (status, 422 if status == 400 else status), response.text
            error = response.json()["error"]
            assert error["code"] == code and set(error) == {"code", "message", "details"}
            assert mentions in error["message"], error["message"]
        assert client.get(f"{server.url}/v1/models", headers=auth).json() in ([], {"models": []})
        ok = client.post(url, headers=auth, json={"events": [event]})  # still serving
        assert ok.status_code == 200 and ok.json()["stored"] == 1
        assert client.get(f"{server.url}/v1/models/churn", headers=auth).json()["events"] == 1
