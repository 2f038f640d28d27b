"""ASGI middleware: log the predictions of an existing FastAPI/Starlette app to keeneye.

Your function gets each finished request/response pair and says what was predicted::

    from fastapi import FastAPI
    from keeneye import Monitor
    from keeneye.sdk import KeeneyeMiddleware, Extracted

    monitor = Monitor(model="churn", version="3", url="http://127.0.0.1:8765")

    def extract(request, response):
        if request.path != "/score" or response.status_code != 200:
            return None  # not a prediction: nothing logged
        return Extracted(inputs=request.json()["features"], predictions=response.json()["score"])

    app = FastAPI()
    app.add_middleware(KeeneyeMiddleware, monitor=monitor, extract=extract)

The request and response pass through unchanged; the bodies are copied (up to
``max_body_bytes`` each) as they stream by. The extractor runs after the response has been
sent, so it adds nothing to the client's latency; its failures are logged once and counted as
dropped events, never raised. The latency of an event is the request's (first byte received to
last byte sent). An exception raised by the app is counted in
``keeneye_prediction_errors_total`` and propagates unchanged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from keeneye.errors import InputError
from keeneye.sdk.monitor import Monitor

log = logging.getLogger("keeneye.sdk")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class CapturedRequest:
    """The request as the app received it (``body`` cut at the middleware's size limit)."""

    method: str
    path: str
    query_string: bytes
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class CapturedResponse:
    """The response as the app sent it."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Extracted:
    """What one request predicted.

    ``inputs`` is one record (a mapping; ``predictions`` is then one value) or a list of
    records (``predictions`` a list of as many values). ``probabilities`` follows the same
    shape (``{class: p}`` or a list per row); ``event_ids`` are your own ids, if you have them
    (e.g. a request id the labels will later be keyed by).
    """

    inputs: Any
    predictions: Any
    probabilities: Any = None
    event_ids: Sequence[str] | None = field(default=None)


Extractor = Callable[[CapturedRequest, CapturedResponse], "Extracted | None"]


class KeeneyeMiddleware:
    """Log predictions of an ASGI app through ``monitor``; see the module docstring.

    Parameters
    ----------
    app:
        The wrapped ASGI app (Starlette passes it when you call ``add_middleware``).
    monitor:
        The :class:`~keeneye.Monitor` of the model version behind the app.
    extract:
        ``f(request, response) -> Extracted | None``; None means "not a prediction".
    methods:
        HTTP methods worth looking at (default ``POST`` only); other requests pass untouched.
    max_body_bytes:
        Bodies are copied up to this size; beyond it ``truncated`` is set.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        monitor: Monitor,
        extract: Extractor,
        methods: Sequence[str] = ("POST",),
        max_body_bytes: int = 1 << 20,
    ) -> None:
        if not callable(extract):
            raise InputError(f"extract={extract!r} must be a function (request, response)")
        self.app = app
        self.monitor = monitor
        self.extract = extract
        self.methods = frozenset(m.upper() for m in methods)
        self.max_body_bytes = max_body_bytes
        self._warned: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method", "").upper() not in self.methods:
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        request_body = bytearray()
        response_body = bytearray()
        state: dict[str, Any] = {"status": 0, "headers": [], "done": False, "cut_in": False}
        start = time.perf_counter()

        async def receive_copy() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if len(request_body) + len(chunk) > limit:
                    state["cut_in"] = True
                request_body.extend(chunk[: max(0, limit - len(request_body))])
            return message

        async def send_copy(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if len(response_body) + len(chunk) > limit:
                    state["cut_out"] = True
                response_body.extend(chunk[: max(0, limit - len(response_body))])
                if not message.get("more_body", False):
                    state["done"] = True
            await send(message)

        try:
            await self.app(scope, receive_copy, send_copy)
        except Exception as exc:
            self.monitor._on_error(exc)  # counted like a watched function's exception
            raise
        if not state["done"]:
            return
        latency = time.perf_counter() - start
        request = CapturedRequest(
            method=scope.get("method", ""),
            path=scope.get("path", ""),
            query_string=scope.get("query_string", b""),
            headers=_headers(scope.get("headers", [])),
            body=bytes(request_body),
            truncated=bool(state["cut_in"]),
        )
        response = CapturedResponse(
            status_code=int(state["status"]),
            headers=_headers(state["headers"]),
            body=bytes(response_body),
            truncated=bool(state.get("cut_out", False)),
        )
        self._log(request, response, latency)

    def _log(self, request: CapturedRequest, response: CapturedResponse, latency: float) -> None:
        try:
            found = self.extract(request, response)
            if found is None:
                return
            if not isinstance(found, Extracted):
                raise InputError(
                    f"extract returned a {type(found).__name__}; return Extracted(...) or None"
                )
            for row in _rows(found):
                self.monitor.log(
                    row[0], row[1], probabilities=row[2], event_id=row[3], latency_seconds=latency
                )
        except Exception as exc:  # monitoring never fails the app
            message = f"{request.method} {request.path} not logged: {exc!r}"
            self.monitor._transport.drop("invalid_input", 1)
            if message not in self._warned and len(self._warned) < 100:
                self._warned.add(message)
                log.warning("keeneye: %s", message)


def _headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def _rows(found: Extracted) -> list[tuple[Any, Any, Any, str | None]]:
    """One ``(inputs, prediction, probabilities, event id)`` per record of ``found``."""
    if isinstance(found.inputs, Mapping):
        own = list(found.event_ids) if found.event_ids is not None else [None]
        return [(found.inputs, found.predictions, found.probabilities, own[0])]
    records = list(found.inputs)
    predictions = list(found.predictions)
    n = len(records)
    if len(predictions) != n:
        raise InputError(f"{len(predictions)} predictions for {n} input records")
    probabilities = list(found.probabilities) if found.probabilities is not None else [None] * n
    ids: list[str | None] = list(found.event_ids) if found.event_ids is not None else [None] * n
    if len(probabilities) != n or len(ids) != n:
        raise InputError(f"probabilities and event_ids need one entry per record ({n})")
    return list(zip(records, predictions, probabilities, ids, strict=True))
