"""Defects 3 and 5: bounded inputs (features per event, new features per hour, names,
timestamps, nesting), and a wide batch must not lock out other models' writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.server.conftest import Api, Clock, make_settings

from keeneye.server.app import create_app
from keeneye.store import EventStore, open_store


def app_with(store: EventStore, clock: Clock, **server: Any) -> Api:
    return Api(create_app(make_settings(**server), store, clock=clock))


def post(api: Api, model: str, events: list[dict[str, Any]], **body: Any) -> Any:
    return api.post(f"/v1/models/{model}/predictions", json={"version": "1", "events": events})


def event(event_id: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "inputs": inputs, "prediction": 1, **extra}


def error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


def test_features_per_event_are_bounded(store: EventStore, clock: Clock) -> None:
    api = app_with(store, clock, max_features_per_event=10)
    wide = event("a", {f"f{i}": 1.0 for i in range(11)})
    message = error(post(api, "m", [event("ok", {"x": 1.0}), wide]), 400)
    assert "events[1].inputs" in message and "server.max_features_per_event=10" in message
    assert post(api, "m", [event("b", {f"f{i}": 1.0 for i in range(10)})]).status_code == 200


def test_new_features_per_model_per_hour_are_bounded(store: EventStore, clock: Clock) -> None:
    api = app_with(store, clock, max_new_features_per_hour=20)
    assert post(api, "m", [event("a", {f"f{i}": 1.0 for i in range(15)})]).status_code == 200
    # known features cost nothing
    assert post(api, "m", [event("b", {f"f{i}": 2.0 for i in range(15)})]).status_code == 200
    refused = post(api, "m", [event("c", {f"g{i}": 1.0 for i in range(6)})])
    message = error(refused, 429)
    assert refused.json()["error"]["code"] == "too_many_new_features"
    assert "server.max_new_features_per_hour=20" in message
    assert int(refused.headers["Retry-After"]) > 0
    # another model has its own budget
    assert post(api, "other", [event("d", {f"g{i}": 1.0 for i in range(6)})]).status_code == 200


@pytest.mark.parametrize(
    ("name", "problem"),
    [("x" * 257, "server.max_name_length=256"), ("a\nb", "control character"), ("", "empty")],
)
def test_feature_names_are_bounded(
    store: EventStore, clock: Clock, name: str, problem: str
) -> None:
    api = app_with(store, clock)
    assert problem in error(post(api, "m", [event("a", {name: 1.0})]), 400)


def test_batch_events_and_bytes_are_bounded(store: EventStore, clock: Clock) -> None:
    api = app_with(store, clock, max_batch_events=3, max_body_bytes=4096)
    events = [event(f"e{i}", {"x": 1.0}) for i in range(4)]
    assert "server.max_batch_events" in error(post(api, "m", events), 413)
    big = [event("e", {"x": "y" * 5000})]
    assert "server.max_body_bytes" in error(post(api, "m", big), 413)


def test_deep_nesting_is_a_400_on_every_json_route(store: EventStore, clock: Clock) -> None:
    api = app_with(store, clock)
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/v1/models/m/predictions", "/v1/models/m/versions/1/baseline"):
        response = api.post(path, content=deep, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (path, response.status_code, response.text)
        assert response.json()["error"]["message"]
    put = api.request(
        "PUT",
        "/v1/models/m/versions/1/baseline",
        content=b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        headers={"Content-Type": "application/json"},
    )
    assert put.status_code == 400, put.text


@pytest.mark.parametrize(
    "stamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", 1e300, -1e18]
)
def test_overflowing_timestamps_are_a_400(store: EventStore, clock: Clock, stamp: Any) -> None:
    api = app_with(store, clock)
    message = error(post(api, "m", [event("a", {"x": 1.0}, timestamp=stamp)]), 400)
    assert "events[0].timestamp" in message
    labels = api.post(
        "/v1/models/m/labels", json={"labels": [{"event_id": "a", "label": 1, "timestamp": stamp}]}
    )
    assert labels.status_code in (400, 404), labels.text


def test_timestamps_must_be_plausible_and_the_range_is_configurable(
    store: EventStore, clock: Clock
) -> None:
    api = app_with(store, clock)
    old = event("old", {"x": 1.0}, timestamp="1990-01-01T00:00:00+00:00")
    message = error(post(api, "m", [old]), 400)
    assert "plausible range" in message and "server.max_event_age_days" in message
    future = event("future", {"x": 1.0}, timestamp=clock.now.timestamp() + 3 * 86400)
    assert "server.max_event_future_seconds" in error(post(api, "m", [future]), 400)
    wide = app_with(store, clock, max_event_age_days=20_000, max_event_future_seconds=7 * 86400)
    assert post(wide, "m", [old, future]).status_code == 200


def test_a_wide_batch_does_not_block_other_models(tmp_path: Path, clock: Clock) -> None:
    # DuckDB only: there each new feature is a column the batch adds. On PostgreSQL the batch
    # is too quick (~0.7 s) for the latency ratio to mean anything on a loaded machine.
    store = open_store(f"duckdb://{tmp_path / 'k.duckdb'}", clock=clock)
    try:
        api = app_with(store, clock)
        assert post(api, "small", [event("s", {"x": 1.0})]).status_code == 200
        latencies: list[float] = []
        done = threading.Event()

        def small_writes() -> None:
            n = 0
            while not done.is_set():
                started = time.perf_counter()
                answer = post(api, "small", [event(f"s{n}", {"x": 1.0})])
                latencies.append(time.perf_counter() - started)
                assert answer.status_code == 200
                n += 1

        writer = threading.Thread(target=small_writes)
        writer.start()
        started = time.perf_counter()
        wide = post(api, "wide", [event("w", {f"f{i}": float(i) for i in range(800)})])
        wide_seconds = time.perf_counter() - started
        done.set()
        writer.join(60)
        assert wide.status_code == 200, wide.text
        assert len(store.feature_types("wide")) == 800
        assert len(latencies) > 3
        # the small writes went on while the wide batch's 800 columns were added
        assert max(latencies) < 0.3 * wide_seconds, (max(latencies), wide_seconds)
    finally:
        store.close()
