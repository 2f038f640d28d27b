"""Every endpoint answers errors with the one envelope ``{"error": {code, message, details}}``.

Walks the app's OpenAPI document, so routes that other modules add are checked too.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from tests.server.conftest import TOKEN, Api, Clock, make_settings

from keeneye.server.app import create_app
from keeneye.store import EventStore

# answered without a token (liveness probes)
OPEN_PATHS = {"/v1/health", "/v1/health/live", "/v1/health/ready"}


def assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.request.url, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and len(body["error"]["message"]) > 10


def routes(app_api: Api) -> list[tuple[str, str]]:
    paths = app_api.get("/openapi.json").json()["paths"]
    found = []
    for path, methods in sorted(paths.items()):
        concrete = re.sub(r"\{model\}", "m", path)
        concrete = re.sub(r"\{[^}]+\}", "x", concrete)
        found.extend((method.upper(), concrete) for method in sorted(methods))
    return found


@pytest.fixture
def secured_app(store: EventStore, clock: Clock) -> Api:
    return Api(create_app(make_settings(token=TOKEN), store, clock=clock))


def test_the_walk_finds_the_api(secured_app: Api) -> None:
    found = routes(secured_app)
    assert ("POST", "/v1/models/m/predictions") in found and ("GET", "/v1/models") in found


def test_missing_and_wrong_token_on_every_protected_route(secured_app: Api) -> None:
    for method, path in routes(secured_app):
        if path in OPEN_PATHS:
            continue
        assert_envelope(secured_app.request(method, path), 401, "unauthorized")
        wrong = secured_app.request(method, path, headers={"Authorization": "Bearer nope"})
        assert_envelope(wrong, 403, "forbidden")


def test_wrong_method_on_every_route(secured_app: Api) -> None:
    for method, path in routes(secured_app):
        other = "DELETE" if method != "DELETE" else "PATCH"
        response = secured_app.request(other, path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert_envelope(response, 405, "method_not_allowed")


def test_unknown_paths(api: Api) -> None:
    assert_envelope(api.get("/v1/nothing-here"), 404, "not_found")
    assert_envelope(api.get("/v1/models/ghost"), 404, "not_found")


def test_request_validation_errors_use_the_envelope(store: EventStore, clock: Clock) -> None:
    """FastAPI's own RequestValidationError (typed parameters, as routers added by other
    modules use) goes through the envelope, naming the field."""
    app = create_app(make_settings(), store, clock=clock)
    extra = APIRouter()

    @extra.get("/v1/typed")
    def typed(limit: int) -> dict[str, int]:
        return {"limit": limit}

    app.include_router(extra)
    api = Api(app)
    assert api.get("/v1/typed", params={"limit": "3"}).json() == {"limit": 3}
    response = api.get("/v1/typed", params={"limit": "lots"})
    assert_envelope(response, 422, "invalid_request")
    assert response.json()["error"]["message"].startswith("limit: ")
    assert response.json()["error"]["details"][0]["field"] == "limit"
    assert_envelope(api.get("/v1/typed"), 422, "invalid_request")


def test_store_failure_is_a_503_envelope(api: Api, store: EventStore) -> None:
    store.close()
    assert_envelope(api.get("/v1/models"), 503, "store_unavailable")
    response = api.post(
        "/v1/models/m/predictions",
        json={"version": "1", "events": [{"event_id": "a", "inputs": {}, "prediction": 1}]},
    )
    assert_envelope(response, 503, "store_unavailable")


def test_unexpected_errors_are_a_500_envelope(store: EventStore) -> None:
    def broken_clock() -> Any:
        raise RuntimeError("clock exploded")  # an internal bug, not a client error

    api = Api(create_app(make_settings(), store, clock=broken_clock))
    response = api.post("/v1/models/m/versions", json={"version": "1"})
    assert_envelope(response, 500, "internal_error")
    assert "exploded" not in response.text  # internals stay in the server log
