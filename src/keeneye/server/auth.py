"""Bearer-token check for the API (a dependency routers add; the token is never logged)."""

from __future__ import annotations

import secrets

from fastapi import Request

from keeneye.server.errors import ApiError

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require_token(request: Request) -> None:
    """Refuse the request unless it carries the server's token (when one is configured).

    No ``Authorization`` header → 401 ``unauthorized``; a wrong token → 403 ``forbidden``.
    """
    token = request.app.state.settings.server.token
    if token is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if not header:
        raise ApiError(
            401,
            "unauthorized",
            "this server requires a token: send the header 'Authorization: Bearer <token>'",
            headers=_CHALLENGE,
        )
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(
            401,
            "unauthorized",
            "the Authorization header must read 'Bearer <token>'",
            headers=_CHALLENGE,
        )
    if not secrets.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise ApiError(
            403,
            "forbidden",
            "the bearer token is not this server's token; check the token your client uses",
        )
