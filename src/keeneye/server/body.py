"""Read a request body under a size limit and parse it as JSON (NaN and ±Infinity allowed)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic_core import from_json

from keeneye.server.errors import ApiError


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "batch_too_large",
        f"request body exceeds the limit of {limit} bytes (server.max_body_bytes); "
        "send smaller batches",
        {"max_body_bytes": limit},
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body; refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError as exc:
            raise ApiError(400, "invalid_request", "Content-Length is not a number") from exc
        if size > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """Parse JSON, accepting the ``NaN``/``Infinity`` literals that the SDK sends.

    pydantic-core's parser (jiter) is about four times faster than the standard library's on
    event batches, and gives the same Python values.

    >>> parse_json(b'{"x": NaN, "y": -Infinity, "n": 3}')
    {'x': nan, 'y': -inf, 'n': 3}
    """
    if not body.strip():
        raise ApiError(400, "invalid_json", "request body is empty; send a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "invalid_json", f"request body is not UTF-8 encoded JSON: {exc.reason}"
        ) from exc
    try:
        return from_json(text, allow_inf_nan=True, cache_strings="keys")
    except ValueError as exc:
        raise ApiError(
            400, "invalid_json", f"request body is not valid JSON: {exc}", {"parser": str(exc)}
        ) from exc
