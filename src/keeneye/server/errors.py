"""One JSON error envelope for every endpoint: ``{"error": {"code", "message", "details"}}``.

Handlers turn FastAPI's validation errors, Starlette's HTTP errors, keeneye's own exceptions and
anything unexpected into the envelope, and count each rejection by code.

>>> envelope("not_found", "model 'x' is unknown")
{'error': {'code': 'not_found', 'message': "model 'x' is unknown", 'details': None}}
"""

from __future__ import annotations

import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from keeneye.errors import InputError, NotFoundError, StoreError

log = logging.getLogger("keeneye.server")

#: Default error code per HTTP status when a handler has nothing more specific.
CODES_BY_STATUS: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    413: "batch_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "store_unavailable",
}


class ApiError(Exception):
    """An error the API reports to the client in the envelope."""

    def __init__(
        self, status: int, code: str, message: str, details: Any = None, *, headers: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The error body every endpoint returns."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Any = None,
) -> JSONResponse:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.rejected.labels(code=code).inc()
    return JSONResponse(envelope(code, message, details), status_code=status, headers=headers)


def _loc_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "events", 3, "inputs")`` → ``events[3].inputs``."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")] or list(loc)
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "request"


def validation_details(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """A message naming the first bad field and the list of all problems."""
    details = [
        {"field": _loc_path(e.get("loc", ())), "problem": str(e.get("msg", "invalid"))}
        for e in errors
    ]
    if not details:
        return "invalid request", details
    first = details[0]
    more = f" (and {len(details) - 1} more problems)" if len(details) > 1 else ""
    return f"{first['field']}: {first['problem']}{more}", details


# Starlette calls each handler only with the exception class it was registered for; the
# casts below tell mypy so (its handler type says ``Exception``).
async def _api_error(request: Request, raw: Exception) -> JSONResponse:
    exc = cast(ApiError, raw)
    return error_response(
        request, exc.status, exc.code, exc.message, exc.details, headers=exc.headers
    )


async def _validation_error(request: Request, raw: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, raw)
    message, details = validation_details(list(exc.errors()))
    return error_response(request, 422, "invalid_request", message, details)


async def _http_error(request: Request, raw: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, raw)
    code = CODES_BY_STATUS.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no endpoint at {request.method} {request.url.path}; see /openapi.json"
    headers = exc.headers
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}; see /openapi.json"
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return error_response(request, exc.status_code, code, message, None, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (Starlette names only the first route's)."""
    from starlette.routing import Match

    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request, 404, "not_found", str(exc))


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(request, 400, "invalid_request", str(exc))


#: Seconds a client is asked to wait before retrying after a storage fault.
RETRY_AFTER_SECONDS = 5


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("store error on %s %s: %s", request.method, request.url.path, exc)
    health = getattr(request.app.state, "health", None)
    if health is not None and request.method in ("POST", "PUT", "PATCH", "DELETE"):
        health.write_failed(str(exc))
    return error_response(
        request,
        503,
        "store_unavailable",
        f"the store could not complete the request: {exc}; retry after "
        f"{RETRY_AFTER_SECONDS} s (acknowledged events are kept)",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(
        request,
        500,
        "internal_error",
        f"internal error ({type(exc).__name__}); the server log has the details",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the envelope (order: most specific first)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(Exception, _unexpected)
