"""Who may see the UI: with ``server.token`` set, a request needs the session cookie that the
login form sets, or ``Authorization: Bearer <token>``; without a token the UI is open (and the
server binds loopback by default and logs so).

The cookie holds an HMAC of the token, not the token: it never travels again after the login,
and changing the token logs every browser out.

>>> from pydantic import SecretStr
>>> a, b = session_value(SecretStr("t1")), session_value(SecretStr("t2"))
>>> len(a), a == b
(64, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import parse_qs

from fastapi import Request
from pydantic import SecretStr

COOKIE = "keeneye_session"
#: How long a login lasts (the browser drops the cookie after this).
SESSION_SECONDS = 7 * 86_400
#: Largest login form body read (a token, a path and a little more).
MAX_FORM_BYTES = 8192


class LoginRequired(Exception):
    """The request has no valid session or token: answer with the login page (401)."""

    def __init__(self, next_path: str, problem: str | None = None) -> None:
        super().__init__(problem or "log in")
        self.next_path = next_path
        self.problem = problem


def session_value(token: SecretStr) -> str:
    """What the session cookie holds for this token."""
    key = token.get_secret_value().encode()
    return hmac.new(key, b"keeneye-ui-session-v1", hashlib.sha256).hexdigest()


def token_matches(given: str, token: SecretStr) -> bool:
    """Constant-time comparison of a presented token with the server's."""
    return secrets.compare_digest(given.encode(), token.get_secret_value().encode())


def safe_next(path: str | None) -> str:
    """Where to go after the login: only a path on this server (no open redirect).

    >>> safe_next("/models/m?range=7d"), safe_next("//evil.example"), safe_next("https://x")
    ('/models/m?range=7d', '/', '/')
    """
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _this_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def require_ui_access(request: Request) -> None:
    """Route dependency of every page: raise :class:`LoginRequired` unless allowed."""
    token: SecretStr | None = request.app.state.settings.server.token
    if token is None:
        return
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and given.strip() and token_matches(given.strip(), token):
            return
        raise LoginRequired(_this_path(request), "the Authorization header's token is wrong")
    cookie = request.cookies.get(COOKIE)
    if cookie and secrets.compare_digest(cookie.encode(), session_value(token).encode()):
        return
    raise LoginRequired(_this_path(request))


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the login form) as a dict.

    >>> parse_form(b"token=a%2Bb&next=%2Fmodels%2Fm")
    {'token': 'a+b', 'next': '/models/m'}
    """
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}
