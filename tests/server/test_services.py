"""``GET /v1/services`` lists the collectors and workers whose heartbeat is recent."""

from __future__ import annotations

from tests.server.conftest import Api

from keeneye.store import EventStore


def test_services_lists_recent_heartbeats(api: Api, store: EventStore) -> None:
    assert api.get("/v1/services").json() == {"services": []}
    store.heartbeat("worker-drift", "host:7", {"windows": 3})
    body = api.get("/v1/services", params={"within": 60}).json()
    [service] = body["services"]
    assert (service["service"], service["owner"], service["info"]) == (
        "worker-drift",
        "host:7",
        {"windows": 3},
    )
    refused = api.get("/v1/services", params={"within": 0})
    assert refused.status_code == 422 and "within" in refused.text
