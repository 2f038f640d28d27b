"""Malformed requests get a 4xx envelope that says what to fix; nothing of them is stored;
the server keeps serving."""

from __future__ import annotations

from typing import Any

import pytest
from tests.server.conftest import TOKEN, Api, Clock, event, make_settings

from keeneye.server.app import create_app
from keeneye.store import EventStore

PREDICTIONS = "/v1/models/m/predictions"
LABELS = "/v1/models/m/labels"
VERSIONS = "/v1/models/m/versions"


def good_batch() -> dict[str, Any]:
    return {"version": "1", "events": [event(0), event(1)]}


CASES: list[tuple[str, str, dict[str, Any], int, str, str]] = [
    # id, path, request kwargs, status, code, words the message must contain
    (
        "invalid-json",
        PREDICTIONS,
        {"content": b'{"events": [}'},
        400,
        "invalid_json",
        "not valid JSON",
    ),
    ("empty-body", PREDICTIONS, {"content": b""}, 400, "invalid_json", "empty"),
    ("not-utf8", PREDICTIONS, {"content": b"\xff\xfe{"}, 400, "invalid_json", "not UTF-8"),
    (
        "body-is-a-list",
        PREDICTIONS,
        {"json": [event(0)]},
        400,
        "invalid_request",
        "body: expected a JSON object with a 'events' list, got a list",
    ),
    (
        "events-missing",
        PREDICTIONS,
        {"json": {"version": "1"}},
        400,
        "invalid_request",
        "events: required",
    ),
    (
        "events-not-a-list",
        PREDICTIONS,
        {"json": {"version": "1", "events": {"a": 1}}},
        400,
        "invalid_request",
        "events: expected a list, got an object",
    ),
    (
        "event-not-an-object",
        PREDICTIONS,
        {"json": {"version": "1", "events": [event(0), 3]}},
        400,
        "invalid_request",
        "events[1]: expected an object, got a number",
    ),
    (
        "inputs-not-an-object",
        PREDICTIONS,
        {"json": {"version": "1", "events": [event(0), event(1), event(2), event(3, inputs=[1])]}},
        400,
        "invalid_request",
        "events[3].inputs: expected an object, got a list",
    ),
    (
        "event-id-missing",
        PREDICTIONS,
        {"json": {"version": "1", "events": [{"inputs": {}, "prediction": 1}]}},
        400,
        "invalid_request",
        "events[0].event_id: required",
    ),
    (
        "event-id-number",
        PREDICTIONS,
        {"json": {"version": "1", "events": [event(0, event_id=7)]}},
        400,
        "invalid_request",
        "events[0].event_id: expected a non-empty string, got a number",
    ),
    (
        "version-missing",
        PREDICTIONS,
        {"json": {"events": [event(0)]}},
        400,
        "invalid_request",
        'events[0].version: required (no batch-level "version" either)',
    ),
    (
        "version-number",
        PREDICTIONS,
        {"json": {"version": 3, "events": [event(0)]}},
        400,
        "invalid_request",
        "version: expected a non-empty string, got a number",
    ),
    (
        "timestamp-naive",
        PREDICTIONS,
        {"json": {"version": "1", "events": [event(0, timestamp="2026-11-27T02:00:00")]}},
        400,
        "invalid_request",
        "events[0].timestamp: '2026-11-27T02:00:00' has no UTC offset",
    ),
    (
        "timestamp-garbage",
        PREDICTIONS,
        {"json": {"version": "1", "events": [event(0, timestamp="yesterday")]}},
        400,
        "invalid_request",
        "events[0].timestamp: 'yesterday' is not ISO 8601",
    ),
    (
        "prediction-object",
        PREDICTIONS,
        {"json": {"version": "1", "events": [event(0, prediction={"p": 1})]}},
        400,
        "invalid_request",
        "events[0].prediction: expected a number, string, boolean or null",
    ),
    (
        "latency-string",
        PREDICTIONS,
        {"json": {"version": "1", "events": [event(0, latency_seconds="fast")]}},
        400,
        "invalid_request",
        "events[0].latency_seconds: expected a number, got a string",
    ),
    (
        "probabilities-string",
        PREDICTIONS,
        {"json": {"version": "1", "events": [event(0, probabilities="0.3")]}},
        400,
        "invalid_request",
        "events[0].probabilities",
    ),
    (
        "bad-model-name",
        "/v1/models/bad%20name!/predictions",
        {"json": good_batch()},
        400,
        "invalid_request",
        "not a valid model name",
    ),
    (
        "labels-not-a-list",
        LABELS,
        {"json": {"labels": "e1"}},
        400,
        "invalid_request",
        "labels: expected a list, got a string",
    ),
    (
        "label-null",
        LABELS,
        {"json": {"labels": [{"event_id": "e0", "label": None}]}},
        400,
        "invalid_request",
        "labels[0].label: expected a number, string or boolean, got null",
    ),
    (
        "label-missing",
        LABELS,
        {"json": {"labels": [{"event_id": "e0"}]}},
        400,
        "invalid_request",
        "labels[0].label: required",
    ),
    (
        "version-body-wrong-type",
        VERSIONS,
        {"json": {"version": 3}},
        400,
        "invalid_request",
        "version: Input should be a valid string",
    ),
    (
        "version-body-unknown-field",
        VERSIONS,
        {"json": {"version": "3", "colour": "red"}},
        400,
        "invalid_request",
        "colour: Extra inputs are not permitted",
    ),
    (
        "version-body-invalid-json",
        VERSIONS,
        {"content": b"version=3"},
        400,
        "invalid_json",
        "not valid JSON",
    ),
    (
        "event-field-typo",
        PREDICTIONS,
        {"json": {"version": "1", "events": [{"event_id": "a", "inputs": {}, "predicton": 1}]}},
        422,
        "unknown_field",
        "events[0]: unknown field 'predicton' (did you mean 'prediction'?)",
    ),
    (
        "batch-field-typo",
        PREDICTIONS,
        {"json": {"versoin": "1", "events": []}},
        422,
        "unknown_field",
        "body: unknown field 'versoin' (did you mean 'version'?)",
    ),
    (
        "label-field-typo",
        LABELS,
        {"json": {"labels": [{"event_id": "a", "label": 1, "timestmp": 1.0}]}},
        422,
        "unknown_field",
        "labels[0]: unknown field 'timestmp' (did you mean 'timestamp'?)",
    ),
]


def assert_nothing_stored(store: EventStore) -> None:
    assert store.list_models() == []


def assert_still_serving(api: Api, store: EventStore) -> None:
    ok = api.post(PREDICTIONS, json=good_batch())
    assert ok.status_code == 200, ok.text
    assert store.model_summary("m").events == 2


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "code", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_request(
    api: Api,
    store: EventStore,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
    words: str,
) -> None:
    response = api.post(path, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert words in error["message"]
    assert_nothing_stored(store)
    assert_still_serving(api, store)


def test_unknown_fields_are_named_in_the_details(api: Api, store: EventStore) -> None:
    batch = {"version": "1", "events": [event(0), {**event(1), "predicton": 1, "x": 2}]}
    response = api.post(PREDICTIONS, json=batch)
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"fields": ["events[1].predicton", "events[1].x"]}
    assert_nothing_stored(store)


def test_a_bad_event_rejects_the_whole_batch(api: Api, store: EventStore) -> None:
    batch = {"version": "1", "events": [event(0), event(1), event(2, inputs="x")]}
    response = api.post(PREDICTIONS, json=batch)
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"field": "events[2].inputs"}
    assert_nothing_stored(store)


def test_oversize_batches_are_refused(store: EventStore, clock: Clock) -> None:
    api = Api(
        create_app(make_settings(max_batch_events=3, max_body_bytes=2048), store, clock=clock)
    )
    many = api.post(PREDICTIONS, json={"version": "1", "events": [event(i) for i in range(4)]})
    assert many.status_code == 413
    assert many.json()["error"]["code"] == "batch_too_large"
    assert "batch of 4 events exceeds the limit of 3" in many.json()["error"]["message"]
    assert many.json()["error"]["details"] == {"max_batch_events": 3, "received": 4}
    big = api.post(PREDICTIONS, json={"version": "1", "events": [event(0, pad="x" * 4000)]})
    assert big.status_code == 413
    assert "exceeds the limit of 2048 bytes" in big.json()["error"]["message"]

    async def chunks() -> Any:  # no Content-Length: the limit applies while reading
        for _ in range(10):
            yield b" " * 1000

    streamed = api.post(PREDICTIONS, content=chunks())
    assert streamed.status_code == 413
    labels = api.post(LABELS, json={"labels": [{"event_id": str(i), "label": 1} for i in range(4)]})
    assert labels.status_code == 413 and "4 labels" in labels.json()["error"]["message"]
    assert_nothing_stored(store)
    ok = api.post(PREDICTIONS, json={"version": "1", "events": [event(0)]})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("header", "status", "code", "words"),
    [
        (None, 401, "unauthorized", "requires a token"),
        ("Bearer wrong-token", 403, "forbidden", "not this server's token"),
        ("Basic dXNlcjpwYXNz", 401, "unauthorized", "must read 'Bearer <token>'"),
        ("Bearer ", 401, "unauthorized", "must read 'Bearer <token>'"),
    ],
    ids=["missing", "wrong", "basic-scheme", "empty"],
)
def test_token_is_checked(
    secured: Api, store: EventStore, header: str | None, status: int, code: str, words: str
) -> None:
    headers = {"Authorization": header} if header is not None else {"Authorization": ""}
    if header is None:
        secured.token = None  # send no header at all
        headers = {}
    for path, body in ((PREDICTIONS, good_batch()), (LABELS, {"labels": []})):
        response = secured.post(path, json=body, headers=headers)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert words in response.json()["error"]["message"]
        assert TOKEN not in response.text  # the token is never echoed
    assert_nothing_stored(store)
    secured.token = TOKEN
    assert_still_serving(secured, store)
