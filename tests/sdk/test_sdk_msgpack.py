"""Format negotiation: MessagePack with a collector that reads it, JSON with an older one."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry
from tests.sdk.test_sdk_collector import monitor, stored

from keeneye.sdk import transport as transport_module
from keeneye.sdk.transport import FORMATS_HEADER, JSON, MSGPACK


def _log_some(m: Any, n: int, start: int = 0) -> list[str]:
    ids = []
    for i in range(start, start + n):
        inputs = {"age": np.int64(i), "plan": ["basic", "pro"][i % 2], "score": i / 2}
        if i == 7:
            inputs["score"] = math.nan
        ids.append(m.log(inputs, np.float32(0.25) if i % 3 else 0.5))
        if i % 10 == 0:
            m.log_label(ids[-1], "yes")
    return ids


def _check(collector: Any, ids: list[str]) -> None:
    rows = {r["event_id"]: r for r in stored(collector)}
    assert set(rows) == set(ids)
    for i, eid in enumerate(ids):
        assert rows[eid]["inputs"]["age"] == i and rows[eid]["inputs"]["score"] is not None
        assert rows[eid]["label"] == ("yes" if i % 10 == 0 else None)
    assert math.isnan(rows[ids[7]]["inputs"]["score"])


def test_switches_to_msgpack_when_the_collector_offers_it(
    collector: Any, registry: CollectorRegistry
) -> None:
    with monitor(collector.url, registry, batch_size=100) as m:
        sender = m._transport
        assert sender._format == JSON  # nothing known about the collector yet
        ids = _log_some(m, 20)
        assert m.flush(timeout=30)
        assert sender._format == MSGPACK  # the first answer listed application/msgpack
        ids += _log_some(m, 280, start=20)
        assert m.flush(timeout=30)
        s = m.stats()
    assert s["sent"] == 300 + 30 and sum(s["dropped"].values()) == 0
    _check(collector, ids)


class _OlderCollector:
    """The real app as an older release behaves: no format header, every body read as JSON."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.content_types: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = []
        for key, value in scope["headers"]:
            if key == b"content-type":
                self.content_types.append(value)
                value = b"application/json"
            headers.append((key, value))
        scope = {**scope, "headers": headers}

        async def strip(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                drop = FORMATS_HEADER.lower().encode()
                message["headers"] = [(k, v) for k, v in message["headers"] if k != drop]
            await send(message)

        await self.app(scope, receive, strip)


def test_older_collector_keeps_getting_json(
    start_collector: Callable[..., Any], registry: CollectorRegistry
) -> None:
    wrappers: list[_OlderCollector] = []
    old = start_collector(wrap=lambda app: wrappers.append(_OlderCollector(app)) or wrappers[-1])
    with monitor(old.url, registry, batch_size=50) as m:
        ids = _log_some(m, 120)
        assert m.flush(timeout=30)
        assert m._transport._format == JSON
    _check(old, ids)
    assert set(wrappers[0].content_types) == {b"application/json"}


def test_msgpack_refused_by_a_downgraded_collector_is_resent_as_json(
    start_collector: Callable[..., Any], registry: CollectorRegistry
) -> None:
    wrappers: list[_OlderCollector] = []
    old = start_collector(wrap=lambda app: wrappers.append(_OlderCollector(app)) or wrappers[-1])
    delivered: list[tuple[str, int]] = []
    with monitor(
        old.url, registry, batch_size=1000, on_delivery=lambda o, i: delivered.append((o, len(i)))
    ) as m:
        m._transport._format = MSGPACK  # as if a newer collector had answered before
        ids = _log_some(m, 60)
        assert m.flush(timeout=30)
        assert m._transport._format == JSON
        s = m.stats()
    assert s["sent"] == 66 and sum(s["dropped"].values()) == 0
    assert ("rejected", 60) not in delivered
    _check(old, ids)
    seen = set(wrappers[0].content_types)
    assert seen == {b"application/msgpack", b"application/json"}


def test_event_msgpack_cannot_encode_goes_as_json(
    collector: Any, registry: CollectorRegistry
) -> None:
    with monitor(collector.url, registry, batch_size=10) as m:
        m._transport._format = MSGPACK
        eid = m.log({"big": 2**70, "x": 1.0}, 1.0)  # beyond MessagePack's 64-bit integers
        assert m.flush(timeout=30)
        assert m.stats()["sent"] == 1
    assert transport_module.wire.available()
    (row,) = stored(collector)
    assert row["event_id"] == eid and row["inputs"]["big"] == float(2**70)
