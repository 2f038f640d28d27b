"""The ingestion and model endpoints store exactly what was sent (in-process ASGI client)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.server.conftest import NOW, Api, Clock, event

from keeneye.server.ingest import _epoch_stamps
from keeneye.store import EventStore


def test_predictions_are_stored_as_sent(api: Api, store: EventStore) -> None:
    body = (
        '{"version": "3", "events": ['
        '{"event_id": "a", "timestamp": "2026-11-27T02:00:00.5+00:00",'
        ' "inputs": {"age": 31, "plan": "pro", "score": NaN, "z": -Infinity},'
        ' "prediction": 0.73, "probabilities": {"no": 0.27, "yes": 0.73},'
        ' "latency_seconds": 0.0012},'
        '{"event_id": "b", "version": "4", "timestamp": 1795748400,'
        ' "inputs": {"age": "cat", "plan": "basic"}, "prediction": Infinity},'
        '{"event_id": "c", "inputs": {"age": 40}, "prediction": null}]}'
    )
    response = api.post("/v1/models/churn/predictions", content=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 3, "duplicates": 0, "invalid_values": {"age": 1}}
    data = store.read_window("churn", NOW - timedelta(days=1), NOW + timedelta(days=1))
    events = data.events.to_pylist()
    assert [e["event_id"] for e in events] == ["c", "a", "b"]  # ordered by timestamp
    c, a, b = events
    assert [a["version"], b["version"], c["version"]] == ["3", "4", "3"]
    assert a["timestamp"] == NOW + timedelta(seconds=0.5)
    assert b["timestamp"] == NOW + timedelta(hours=1)  # epoch seconds
    assert c["timestamp"] == NOW  # missing → the server clock's receive time
    assert b["prediction"] == math.inf and c["prediction"] is None
    assert a["latency_seconds"] == 0.0012
    assert json.loads(a["probabilities"]) == {"no": 0.27, "yes": 0.73}
    features = data.features.to_pydict()
    assert features["age"] == [40.0, 31.0, None]  # "cat" is an invalid marker, not coerced
    assert math.isnan(features["score"][1]) and features["z"][1] == -math.inf
    assert store.invalid_value_counts("churn", NOW, NOW + timedelta(days=1))["age"] == {"type": 1}


def test_retries_are_idempotent(api: Api) -> None:
    batch = {"version": "1", "events": [event(0), event(1)]}
    assert api.post("/v1/models/m/predictions", json=batch).json()["stored"] == 2
    again = api.post("/v1/models/m/predictions", json=batch).json()
    assert again == {"stored": 0, "duplicates": 2, "invalid_values": {}}


def test_labels_before_and_after_predictions(api: Api, clock: Clock) -> None:
    api.post("/v1/models/m/predictions", json={"version": "1", "events": [event(0), event(1)]})
    early = api.post(
        "/v1/models/m/labels",
        json={"labels": [{"event_id": "e0", "label": 1}, {"event_id": "e9", "label": 0}]},
    )
    assert early.json() == {"stored": 2, "replaced": 0, "pending": 1}
    clock.advance(days=2)
    later = api.post(
        "/v1/models/m/labels",
        json={"labels": [{"event_id": "e0", "label": 0, "timestamp": 1795748400.0}]},
    )
    assert later.json() == {"stored": 1, "replaced": 1, "pending": 0}
    api.post("/v1/models/m/predictions", json={"version": "1", "events": [event(9)]})
    model = api.get("/v1/models/m").json()
    assert (model["events"], model["labels"]) == (3, 2)
    assert model["label_coverage"] == 2 / 3


def test_versions_and_model_views(api: Api, clock: Clock) -> None:
    created = api.post(
        "/v1/models/churn/versions",
        json={
            "version": "3",
            "training_data": "dvc:abc123",
            "tags": {"team": "risk"},
            "live": True,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json() == {
        "model": "churn",
        "version": "3",
        "registered_at": "2026-11-27T02:00:00Z",
        "model_uri": None,
        "mlflow_run_id": None,
        "training_data": "dvc:abc123",
        "git_sha": None,
        "tags": {"team": "risk"},
        "live": True,
    }
    clock.advance(hours=1)
    api.post("/v1/models/churn/versions", json={"version": "4", "live": True})
    api.post("/v1/models/churn/predictions", json={"version": "4", "events": [event(0)]})
    models = api.get("/v1/models").json()["models"]
    assert [(m["model"], m["live_version"], m["events"]) for m in models] == [("churn", "4", 1)]
    detail = api.get("/v1/models/churn").json()
    assert detail["versions"] == ["3", "4"]
    assert [(h["version"], h["previous_version"]) for h in detail["version_history"]] == [
        ("3", None),
        ("4", "3"),
    ]
    assert [v["live"] for v in detail["version_details"]] == [False, True]
    missing = api.get("/v1/models/ghost")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_health_and_metrics(api: Api) -> None:
    assert api.get("/v1/health").json()["status"] == "ok"
    api.post(
        "/v1/models/m/predictions",
        json={"version": "1", "events": [event(0, inputs={"age": "x"}), event(1)]},
    )
    api.post("/v1/models/m/predictions", json={"version": "1", "events": [event(1)]})
    api.post("/v1/models/m/predictions", content=b"{")
    text = api.get("/metrics").text
    assert 'keeneye_ingested_events_total{model="m"} 2.0' in text
    assert 'keeneye_ingested_duplicate_events_total{model="m"} 1.0' in text
    assert 'keeneye_ingested_invalid_values_total{feature="age",model="m"} 1.0' in text
    assert 'keeneye_requests_rejected_total{code="invalid_json"} 1.0' in text
    assert 'keeneye_ingest_request_duration_seconds_count{endpoint="predictions"} 2.0' in text
    assert 'keeneye_store_write_duration_seconds_count{operation="predictions"} 2.0' in text


def test_epoch_seconds_are_stored_as_datetime_fromtimestamp_reads_them(
    api: Api, store: EventStore
) -> None:
    """The SDK's batch (every time in epoch seconds) is converted in one vectorised step: the
    stored microseconds equal Python's own rounding of each value."""
    base = NOW.timestamp()
    seconds = [base + k * 1e-7 for k in range(40)] + [base + 0.5e-6, base - 3600.25, base + 7]
    batch = {
        "version": "1",
        "events": [
            {"event_id": f"t{i}", "timestamp": s, "inputs": {"x": 1.0}, "prediction": 0}
            for i, s in enumerate(seconds)
        ],
    }
    response = api.post("/v1/models/m/predictions", json=batch)
    assert response.status_code == 200, response.text
    events = store.read_window("m", NOW - timedelta(days=1), NOW + timedelta(days=1)).events
    ids, times = events.column("event_id").to_pylist(), events.column("timestamp").to_pylist()
    stored = dict(zip(ids, times, strict=True))
    assert stored == {f"t{i}": datetime.fromtimestamp(s, UTC) for i, s in enumerate(seconds)}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.floats(min_value=-62135596799, max_value=253402300799), min_size=1))
def test_vectorised_epoch_conversion_rounds_as_python(seconds: list[float]) -> None:
    stamps = _epoch_stamps(seconds)
    assert stamps is not None
    assert stamps.to_pylist() == [datetime.fromtimestamp(s, UTC) for s in seconds]


def test_epoch_seconds_out_of_range_get_the_same_errors(api: Api) -> None:
    base = NOW.timestamp()
    for bad, message in [
        (1e300, "events[1].timestamp: 1e+300 is out of range as epoch seconds"),
        (math.nan, "events[1].timestamp: nan is not a time; send epoch seconds or ISO 8601"),
        (base - 86_400 * 365 * 20, "events[1].timestamp: 20"),  # outside the plausible range
    ]:
        batch = {
            "version": "1",
            "events": [
                {"event_id": f"o{i}", "timestamp": t, "inputs": {}, "prediction": 0}
                for i, t in enumerate([base, bad])
            ],
        }
        response = api.post("/v1/models/m/predictions", content=json.dumps(batch))
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith(message)
