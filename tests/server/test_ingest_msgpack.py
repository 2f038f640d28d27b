"""MessagePack ingestion bodies: the same documents as JSON, stored identically."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgpack
from tests.conftest import Backend
from tests.server.conftest import NOW, Api, Clock, make_settings

from keeneye.server.app import create_app
from keeneye.server.codecs import FORMATS_HEADER
from keeneye.store import EventStore, open_store

EVENTS: list[dict[str, Any]] = [
    {
        "event_id": "a",
        "timestamp": "2026-11-27T02:00:00.5+00:00",
        "inputs": {"age": 31, "plan": "pro", "score": math.nan, "z": -math.inf, "ok": True},
        "prediction": 0.73,
        "probabilities": {"no": 0.27, "yes": 0.73},
        "latency_seconds": 0.0012,
    },
    {"event_id": "b", "timestamp": 1795748400, "inputs": {"age": "cat"}, "prediction": "yes"},
    {"event_id": "c", "inputs": {"age": 40, "plan": None}, "prediction": None},
]
MSGPACK = {"Content-Type": "application/msgpack"}


def _rows(store: EventStore) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    data = store.read_window("churn", NOW - timedelta(days=1), NOW + timedelta(days=1))
    return data.events.to_pylist(), data.features.to_pydict()


def _fresh(backend: Backend, tmp_path: Path, name: str, clock: Clock) -> tuple[Api, EventStore]:
    directory = tmp_path / name
    directory.mkdir()
    store = open_store(backend.location(directory), clock=clock)
    return Api(create_app(make_settings(), store, clock=clock)), store


def test_msgpack_round_trip_equals_json(backend: Backend, tmp_path: Path, clock: Clock) -> None:
    document = {"version": "3", "events": EVENTS}
    json_api, json_store = _fresh(backend, tmp_path, "json", clock)
    pack_api, pack_store = _fresh(backend, tmp_path, "msgpack", clock)
    try:
        as_json = json_api.post("/v1/models/churn/predictions", content=json.dumps(document))
        as_pack = pack_api.post(
            "/v1/models/churn/predictions", content=msgpack.packb(document), headers=MSGPACK
        )
        assert as_json.status_code == as_pack.status_code == 200, as_pack.text
        assert (
            as_pack.json()
            == as_json.json()
            == {
                "stored": 3,
                "duplicates": 0,
                "invalid_values": {"age": 1, "__prediction__": 1},  # "yes" after a number
            }
        )
        assert as_pack.headers[FORMATS_HEADER] == "application/msgpack, application/json"
        (json_events, json_features), (events, features) = _rows(json_store), _rows(pack_store)
        for row in (*json_events, *events):
            row.pop("received_at", None)
        assert events == json_events
        assert math.isnan(features["score"][1]) and features["z"][1] == -math.inf
        features.pop("score"), json_features.pop("score")  # NaN != NaN
        assert features == json_features
        labels = {"labels": [{"event_id": "a", "label": "yes"}, {"event_id": "z", "label": 1}]}
        answer = pack_api.post(
            "/v1/models/churn/labels", content=msgpack.packb(labels), headers=MSGPACK
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"stored": 2, "replaced": 0, "pending": 1}
        assert FORMATS_HEADER in answer.headers
    finally:
        json_store.close()
        pack_store.close()


def test_bad_msgpack_bodies_are_400_with_the_fix(api: Api) -> None:
    garbage = api.post("/v1/models/churn/predictions", content=b"\xc1\x00", headers=MSGPACK)
    assert garbage.status_code == 400
    error = garbage.json()["error"]
    assert error["code"] == "invalid_msgpack" and "Content-Type" in error["message"]
    empty = api.post("/v1/models/churn/labels", content=b"", headers=MSGPACK)
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "invalid_msgpack"
    shape = api.post("/v1/models/churn/predictions", content=msgpack.packb([1, 2]), headers=MSGPACK)
    assert shape.status_code == 400 and shape.json()["error"]["code"] == "invalid_request"
    as_json = api.post("/v1/models/churn/predictions", content=msgpack.packb({"events": []}))
    assert as_json.status_code == 400 and as_json.json()["error"]["code"] == "invalid_json"


def test_openapi_documents_both_formats(api: Api) -> None:
    spec = api.get("/openapi.json").json()
    body = spec["paths"]["/v1/models/{model}/predictions"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/msgpack"}


def _decoded(body: bytes) -> tuple[str, Any]:
    """What the collector's decoder gives (``parse_body``): a value, or the error message."""
    from keeneye.server.codecs import parse_body
    from keeneye.server.errors import ApiError

    try:
        return "value", parse_body(body, "application/msgpack")
    except ApiError as exc:
        return "error", exc.message


def _reference(body: bytes) -> tuple[str, Any]:
    """What msgpack alone gives, in the collector's words."""
    try:
        return "value", msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        return "error", (
            f"request body is not valid MessagePack: {exc}; check the Content-Type header"
        )


def test_the_fast_decoder_answers_exactly_as_msgpack() -> None:
    """The collector decodes with ormsgpack when it can and with msgpack otherwise: every body
    gets msgpack's document (same values, same types) or msgpack's error."""
    batch = msgpack.packb({"version": "1", "events": EVENTS})
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    bodies = [
        batch,
        batch + b"\x00",  # trailing bytes: ormsgpack ignores them, msgpack refuses
        batch[:-3],  # truncated
        msgpack.packb({"x": msgpack.ExtType(5, b"raw")}),
        msgpack.packb({"t": msgpack.Timestamp(1, 5)}),
        msgpack.packb({b"bytes-key": 1}, use_bin_type=True),
        msgpack.packb({1: 2}),
        b"\x81\xa1a\xa2\xff\xfe",  # a string that is not UTF-8
        b"\x82\xa1a\x01\xa1a\x02",  # a repeated key: the last wins
        msgpack.packb({"f": 1.5, "u": 2**64 - 1, "n": -(2**63), "b": b"\x00\xff", "z": None}),
        msgpack.packb({"f32": 0.1}, use_single_float=True),
        msgpack.packb({"deep": deep}),
        msgpack.packb(None),
        msgpack.packb([]),
        b"\xc1",  # a reserved byte
    ]
    from keeneye.server.codecs import _unpack_fast

    assert _unpack_fast(msgpack, batch) is not None  # the fast decoder is the one compared
    assert _unpack_fast(msgpack, batch + b"\x00") is None
    for body in bodies:
        # repr: the same values and types (bytes, int, float), NaN included, in the same order
        assert repr(_decoded(body)) == repr(_reference(body)), body[:40]
