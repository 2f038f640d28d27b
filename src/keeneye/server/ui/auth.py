"""Who may see the UI: with ``server.token`` set, a request needs the session cookie that the
login form sets, or ``Authorization: Bearer <token>``; without a token the UI is open (and the
server binds loopback by default and logs so).

The cookie is signed with the token by itsdangerous (HMAC-SHA1 over a timestamp; the token
itself never travels again after the login): it expires on the server after
:data:`SESSION_SECONDS` whatever the browser does, and changing the token logs every browser
out.

>>> from pydantic import SecretStr
>>> value = session_value(SecretStr("t1"))
>>> valid_session(value, SecretStr("t1")), valid_session(value, SecretStr("t2"))
(True, False)
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs

from fastapi import Request
from itsdangerous import BadSignature, TimestampSigner
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


def _signer(token: SecretStr) -> TimestampSigner:
    return TimestampSigner(token.get_secret_value(), salt="keeneye-ui-session-v2")


def session_value(token: SecretStr) -> str:
    """What the session cookie holds after a login with this token (signed, timestamped)."""
    return _signer(token).sign(b"ui").decode()


def valid_session(cookie: str, token: SecretStr, max_age: int = SESSION_SECONDS) -> bool:
    """Whether ``cookie`` was signed with ``token`` at most ``max_age`` seconds ago."""
    try:
        return _signer(token).unsign(cookie, max_age=max_age) == b"ui"
    except BadSignature:  # tampered, expired (SignatureExpired) or from another token
        return False


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
    if cookie and valid_session(cookie, token):
        return
    raise LoginRequired(_this_path(request))


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the login form) as a dict.

    >>> parse_form(b"token=a%2Bb&next=%2Fmodels%2Fm")
    {'token': 'a+b', 'next': '/models/m'}
    """
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}
