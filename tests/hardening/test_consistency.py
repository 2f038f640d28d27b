"""Defects 4, 5 and 8: feature pages with ``/`` in the name, the baseline route's ``Allow``,
and the small inconsistencies of ingestion — all through the HTTP API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.server.conftest import Api, Clock, make_settings

from keeneye.server.app import create_app
from keeneye.store import EventStore


def api_of(store: EventStore, clock: Clock) -> Api:
    return Api(create_app(make_settings(), store, clock=clock))


def predictions(api: Api, model: str, events: list[dict[str, Any]], version: str = "1") -> Any:
    return api.post(f"/v1/models/{model}/predictions", json={"version": version, "events": events})


def test_feature_pages_are_reachable_when_the_name_has_a_slash(
    store: EventStore, clock: Clock
) -> None:
    api = api_of(store, clock)
    names = ["a/b", "x/y/z", "/lead", "plain"]
    events = [{"event_id": f"e{i}", "inputs": {n: float(i) for n in names}} for i in range(5)]
    assert predictions(api, "m", events).status_code == 200
    for name in names:
        page = api.get(f"/models/m/features/{quote(name, safe='')}")
        assert page.status_code == 200, (name, page.status_code)
        assert name in page.text


def test_baseline_route_allow_header_names_put_and_post(store: EventStore, clock: Clock) -> None:
    api = api_of(store, clock)
    answer = api.request("DELETE", "/v1/models/m/versions/1/baseline")
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["Allow"].split(",")} == {"PUT", "POST"}


def test_empty_event_id_message_says_empty(store: EventStore, clock: Clock) -> None:
    api = api_of(store, clock)
    answer = predictions(api, "m", [{"event_id": "", "inputs": {}}])
    assert answer.status_code == 400
    message = answer.json()["error"]["message"]
    assert "events[0].event_id" in message and "is empty" in message
    assert "got a string" not in message


def test_labels_for_an_unknown_model_are_404_and_create_nothing(
    store: EventStore, clock: Clock
) -> None:
    api = api_of(store, clock)
    answer = api.post("/v1/models/ghost/labels", json={"labels": [{"event_id": "a", "label": 1}]})
    assert answer.status_code == 404, answer.text
    assert "'ghost'" in answer.json()["error"]["message"]
    assert api.get("/v1/models").json()["models"] == []
    assert api.get("/v1/models/ghost").status_code == 404
    # a known model still takes labels before their predictions
    assert predictions(api, "m", [{"event_id": "p", "inputs": {"x": 1.0}}]).status_code == 200
    early = api.post("/v1/models/m/labels", json={"labels": [{"event_id": "later", "label": 1}]})
    assert early.status_code == 200 and early.json()["pending"] == 1


def test_a_batch_of_only_duplicates_registers_no_version(store: EventStore, clock: Clock) -> None:
    api = api_of(store, clock)
    events = [{"event_id": "a", "inputs": {"x": 1.0}}]
    assert predictions(api, "m", events, version="1").json()["stored"] == 1
    again = predictions(api, "m", events, version="2")
    assert again.json() == {"stored": 0, "duplicates": 1, "invalid_values": {}}
    assert api.get("/v1/models/m").json()["versions"] == ["1"]


def test_versions_sent_with_events_are_capped_like_post_versions(
    store: EventStore, clock: Clock
) -> None:
    api = api_of(store, clock)
    for bad in ("v" * 129, "1\x00", "1\n2"):
        answer = predictions(api, "m", [{"event_id": "a", "inputs": {}}], version=bad)
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["error"]["message"].startswith("version: ")
        per_event = api.post(
            "/v1/models/m/predictions",
            json={"events": [{"event_id": "a", "inputs": {}, "version": bad}]},
        )
        assert per_event.status_code == 400, per_event.text
        assert "events[0].version" in per_event.json()["error"]["message"]
        posted = api.post("/v1/models/m/versions", json={"version": bad})
        assert posted.status_code == 400, posted.text
    assert predictions(api, "m", [{"event_id": "a", "inputs": {}}], "v" * 128).status_code == 200


def test_negative_latency_is_refused(store: EventStore, clock: Clock) -> None:
    api = api_of(store, clock)
    answer = predictions(api, "m", [{"event_id": "a", "inputs": {}, "latency_seconds": -0.5}])
    assert answer.status_code == 400
    assert "latency_seconds" in answer.json()["error"]["message"]
    ok = predictions(api, "m", [{"event_id": "a", "inputs": {}, "latency_seconds": 0.0}])
    assert ok.status_code == 200
