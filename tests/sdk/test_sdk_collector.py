"""The SDK against a real collector (uvicorn on a free 127.0.0.1 port, DuckDB file store)."""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import socket
import threading
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from keeneye.errors import CollectorError
from keeneye.sdk import Monitor

START = 1_760_000_000.0  # injected event times: 2025-10-09, one millisecond apart (in the past:
# the collector refuses implausible future timestamps)
WINDOW = (
    datetime.fromtimestamp(START - 1, timezone.utc),
    datetime.fromtimestamp(START + 10**5, timezone.utc),
)


def ticking_clock() -> Callable[[], float]:
    counter = itertools.count()
    return lambda: START + next(counter) / 1000


def stored(collector: Any, model: str = "churn") -> list[dict[str, Any]]:
    window = collector.store.read_window(model, *WINDOW)
    features = window.features.to_pylist()
    events = window.events.to_pylist()
    return [{**e, "inputs": f} for e, f in zip(events, features, strict=True)]


def monitor(url: str, registry: CollectorRegistry, **kw: Any) -> Monitor:
    kw.setdefault("clock", ticking_clock())
    kw.setdefault("flush_interval", 0.05)
    return Monitor("churn", "3", url=url, registry=registry, **kw)


def test_events_arrive_exactly_as_logged(collector: Any, registry: CollectorRegistry) -> None:
    delivered: list[tuple[str, int]] = []
    with monitor(
        collector.url,
        registry,
        batch_size=500,
        max_batch_size=500,
        on_delivery=lambda outcome, ids: delivered.append((outcome, len(ids))),
    ) as m:

        @m.watch
        def predict(record: dict) -> float:
            return record["age"] / 100

        ids = []
        for i in range(1200):
            predict(
                {"age": i, "plan": ["basic", "pro"][i % 2], "score": math.nan if i == 7 else i / 2}
            )
            ids.append(m.last_event_ids()[0])
        assert m.flush(timeout=30)
        s = m.stats()
    assert s["sent"] == 1200 and s["pending"] == 0 and sum(s["dropped"].values()) == 0
    assert delivered == [("sent", 500), ("sent", 500), ("sent", 200)]
    assert (
        registry.get_sample_value(
            "keeneye_sdk_sent_events_total", {"model": "churn", "version": "3"}
        )
        == 1200
    )
    rows = {r["event_id"]: r for r in stored(collector)}
    assert set(rows) == set(ids)
    for i, eid in enumerate(ids):
        r = rows[eid]
        assert r["version"] == "3" and r["prediction"] == pytest.approx(i / 100)
        assert r["inputs"]["age"] == i and r["inputs"]["plan"] == ["basic", "pro"][i % 2]
        assert r["timestamp"].timestamp() == pytest.approx(START + i / 1000, abs=1e-6)
    assert math.isnan(rows[ids[7]]["inputs"]["score"])  # NaN travels as NaN, not null


def test_events_that_piled_up_go_in_larger_requests(
    collector: Any, registry: CollectorRegistry
) -> None:
    """While the collector is busy, events pile up; then requests take up to max_batch_size."""
    delivered: list[int] = []
    first_sent = threading.Event()
    release = threading.Event()

    def on_delivery(outcome: str, ids: Sequence[str]) -> None:
        assert outcome == "sent"
        delivered.append(len(ids))
        first_sent.set()
        release.wait(30)  # no request is sent until the test has logged the backlog

    with monitor(
        collector.url,
        registry,
        batch_size=100,
        max_batch_size=400,
        flush_interval=60,
        on_delivery=on_delivery,
    ) as m:
        ids = [m.log({"x": float(i)}, 0.5) for i in range(100)]
        assert first_sent.wait(30)
        ids += [m.log({"x": float(i)}, 0.5) for i in range(100, 1100)]
        release.set()
        assert m.flush(timeout=30)
        s = m.stats()
    # the first request had batch_size; the backlog went in larger ones, never above the max
    # (the encoding thread may take one or two batches while the first request is in flight)
    assert delivered[0] == 100 and sum(delivered) == 1100
    assert max(delivered) > 100 and all(n <= 400 for n in delivered)
    assert s["sent"] == 1100 and sum(s["dropped"].values()) == 0
    assert {r["event_id"] for r in stored(collector)} == set(ids)


def test_labels_join_even_before_their_prediction(
    collector: Any, registry: CollectorRegistry
) -> None:
    with monitor(collector.url, registry) as m:
        m.log({"x": 0.0}, "no")  # the collector takes labels only for a model it knows
        assert m.flush(timeout=10)
        m.log_label("early", "yes")  # the label before its prediction
        assert m.flush(timeout=10)
        m.log({"x": 1.0}, "no", event_id="early", probabilities={"no": 0.6, "yes": 0.4})
        late = m.log({"x": 2.0}, "yes")
        m.log_label(late, "yes")
        assert m.flush(timeout=10)
    rows = {r["event_id"]: r for r in stored(collector)}
    assert rows["early"]["label"] == "yes" and rows[late]["label"] == "yes"
    assert json.loads(rows["early"]["probabilities"]) == {"no": 0.6, "yes": 0.4}  # stored as JSON


def test_repeated_ids_are_idempotent(collector: Any, registry: CollectorRegistry) -> None:
    with monitor(collector.url, registry) as m:
        for _ in range(3):
            m.log({"x": 1.0}, 0.5, event_id="same")
        assert m.flush(timeout=10)
    assert [r["event_id"] for r in stored(collector)] == ["same"]


def test_wrong_token_is_rejected_counted_and_logged_once(
    start_collector: Callable[..., Any],
    registry: CollectorRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    c = start_collector(token="s3cret-token")
    with (
        caplog.at_level(logging.INFO, logger="keeneye.sdk"),
        monitor(c.url, registry, token="not-the-token", batch_size=10) as m,
    ):
        for i in range(30):
            m.log({"x": i}, 0.5)
        assert m.flush(timeout=10)
        s = m.stats()
    assert s["dropped"]["rejected"] == 30 and s["sent"] == 0
    messages = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(messages) == 1 and "HTTP 403" in messages[0] and "token" in messages[0]
    assert not any("not-the-token" in r.getMessage() for r in caplog.records)
    assert (
        registry.get_sample_value(
            "keeneye_sdk_dropped_events_total",
            {"model": "churn", "version": "3", "reason": "rejected"},
        )
        == 30
    )
    other = CollectorRegistry()
    with monitor(c.url, other, token="s3cret-token") as ok:
        ok.log({"x": 1}, 0.5)
        assert ok.flush(timeout=10) and ok.stats()["sent"] == 1


def test_oversize_batches_are_split(
    start_collector: Callable[..., Any], registry: CollectorRegistry
) -> None:
    c = start_collector(max_batch_events=100)
    with monitor(c.url, registry, batch_size=350, flush_interval=3600) as m:
        for i in range(350):
            m.log({"x": i}, 0.5)
        assert m.flush(timeout=30)
        assert m.stats()["sent"] == 350
    assert len(stored(c)) == 350


def test_resumes_on_its_own_when_the_collector_comes_up(
    start_collector: Callable[..., Any], registry: CollectorRegistry
) -> None:
    with socket.socket() as sock:  # a port free now; the collector will take it later
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with monitor(
        f"http://127.0.0.1:{port}", registry, max_retries=None, backoff_base=0.02, backoff_cap=0.2
    ) as m:
        for i in range(50):
            m.log({"x": i}, 0.5)
        assert m.flush(timeout=0.5) is False  # nobody listening yet
        assert m.stats()["pending"] == 50
        c = start_collector(port=port)
        assert m.flush(timeout=30)
        s = m.stats()
    assert s["sent"] == 50 and sum(s["dropped"].values()) == 0
    assert len(stored(c)) == 50


def test_sampled_events_and_their_labels_travel_together(
    collector: Any, registry: CollectorRegistry
) -> None:
    with monitor(collector.url, registry, sample_rate=0.5) as m:
        ids = [m.log({"x": i}, 0.5, event_id=f"s{i}") for i in range(400)]
        for eid in ids:
            m.log_label(eid, 1)
        assert m.flush(timeout=30)
        s = m.stats()
    rows = stored(collector)
    assert len(rows) == s["sent"] // 2 and 120 < len(rows) < 280  # Binomial(400, 0.5)
    assert all(r["label"] == 1 for r in rows)  # every shipped prediction got its label
    summary = httpx.get(f"{collector.url}/v1/models/churn").json()
    assert summary["labels"] == len(rows)  # and no label of an unshipped prediction was sent
    assert (
        registry.get_sample_value("keeneye_predictions_total", {"model": "churn", "version": "3"})
        == 400
    )


def test_register_version(start_collector: Callable[..., Any], registry: CollectorRegistry) -> None:
    c = start_collector(token="tok")
    with monitor(c.url, registry, token="tok") as m:
        answer = m.register_version(
            training_data="dvc:abc123", git_sha="deadbeef", tags={"team": "growth"}
        )
        assert answer["version"] == "3" and answer["training_data"] == "dvc:abc123"
    summary = httpx.get(f"{c.url}/v1/models/churn", headers={"Authorization": "Bearer tok"}).json()
    assert summary["live_version"] == "3"
    with (
        monitor(c.url, CollectorRegistry(), token="wrong") as bad,
        pytest.raises(CollectorError, match=r"HTTP 403.*token") as info,
    ):
        bad.register_version()
    assert info.value.status == 403 and info.value.code == "forbidden"


def test_forked_child_ships_its_own_events(collector: Any, registry: CollectorRegistry) -> None:
    m = monitor(collector.url, registry)
    m.log({"x": 0}, 0.5, event_id="parent-0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:
        ok = False
        try:
            for i in range(20):
                m.log({"x": i}, 0.5, event_id=f"child-{i}")
            ok = m.flush(timeout=20) and m.stats()["sent"] == 20
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert m.flush(timeout=20)
    m.close()
    ids = sorted(r["event_id"] for r in stored(collector))
    assert ids == sorted(["parent-0", *(f"child-{i}" for i in range(20))])
