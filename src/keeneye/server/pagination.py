"""Opaque cursors for the paginated query routes (``/v1/models/{model}/results``,
``/v1/alerts``): a page answers ``next_cursor``; passing it back as ``cursor`` gives the next
page, and ``null`` means there is none. The cursor is the sort key of the last item sent
(keyset pagination), so items written meanwhile neither repeat nor go missing before it.

>>> decode_cursor(encode_cursor(["2026-01-01T00:00:00+00:00", "drift", "3"]))
['2026-01-01T00:00:00+00:00', 'drift', '3']
"""

from __future__ import annotations

import base64
import binascii
import json

from keeneye.server.errors import ApiError

#: Default and largest page sizes.
DEFAULT_PAGE = 500
MAX_PAGE = 10_000


def encode_cursor(key: list[str | int]) -> str:
    """The opaque text of a sort key."""
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[str | int]:
    """The sort key inside ``cursor``; a 400 naming the parameter when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or not all(isinstance(k, str | int) for k in key):
        raise bad_cursor()
    return key


def bad_cursor() -> ApiError:
    """The 400 for a cursor this server did not issue."""
    return ApiError(
        400,
        "invalid_request",
        "cursor: not a cursor this server issued; pass the next_cursor of the previous page",
        {"field": "cursor"},
    )
