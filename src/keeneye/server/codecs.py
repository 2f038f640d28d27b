"""Ingestion body formats: JSON (always) and MessagePack (when ``msgpack`` is installed).

A MessagePack body is the same document as the JSON one — ``{"version", "events": [...]}`` or
``{"labels": [...]}`` — in a compact binary encoding, sent with ``Content-Type:
application/msgpack``; it is validated by the same code. The collector names the formats it
accepts in the :data:`FORMATS_HEADER` response header of every ingestion answer: the SDK starts
with JSON and switches to MessagePack once it sees it there, so an SDK talking to an older
collector (no header) keeps sending JSON.

>>> parse_body(b'{"labels": []}', "application/json")
{'labels': []}
>>> import msgpack
>>> parse_body(msgpack.packb({"labels": []}), "application/msgpack; charset=binary")
{'labels': []}
"""

from __future__ import annotations

from typing import Any

from keeneye.server.body import parse_json
from keeneye.server.errors import ApiError

#: The response header listing the body formats the collector accepts.
FORMATS_HEADER = "Keeneye-Accept-Formats"
MSGPACK = "application/msgpack"
JSON = "application/json"
#: Content types read as MessagePack (the registered one and two common older spellings).
MSGPACK_TYPES = frozenset({MSGPACK, "application/x-msgpack", "application/vnd.msgpack"})


def _msgpack() -> Any | None:
    try:
        import msgpack
    except ImportError:  # pragma: no cover - msgpack comes with the fast extra
        return None
    return msgpack


def _ormsgpack() -> Any | None:
    try:
        import ormsgpack
    except ImportError:  # pragma: no cover - ormsgpack comes with the fast extra
        return None
    return ormsgpack


def _unpack_fast(msgpack: Any, body: bytes) -> Any | None:
    """The document decoded by ormsgpack (about 1.7x faster than msgpack on event batches),
    or ``None`` whenever msgpack must decide: a body ormsgpack refuses (extension types, bytes
    as keys, malformed input …) or one that is not exactly one MessagePack object (ormsgpack
    ignores trailing bytes, which msgpack refuses). What it returns is what msgpack returns.
    """
    ormsgpack = _ormsgpack()
    if ormsgpack is None:  # pragma: no cover - ormsgpack comes with the fast extra
        return None
    try:
        document = ormsgpack.unpackb(body)
        # Skipping parses without building objects: cheap next to the decode itself.
        unpacker = msgpack.Unpacker(max_buffer_size=len(body))
        unpacker.feed(body)
        unpacker.skip()
        if unpacker.tell() != len(body):
            return None
    except Exception:  # any refusal: msgpack gives the answer and the error message
        return None
    return document


def accepted_formats() -> str:
    """The :data:`FORMATS_HEADER` value: ``application/msgpack, application/json`` or JSON."""
    return f"{MSGPACK}, {JSON}" if _msgpack() is not None else JSON


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower case.

    >>> media_type("Application/MsgPack; charset=binary")
    'application/msgpack'
    """
    return (content_type or "").split(";", 1)[0].strip().lower()


def parse_body(body: bytes, content_type: str | None) -> Any:
    """The request document, from MessagePack or (any other content type) JSON."""
    if media_type(content_type) not in MSGPACK_TYPES:
        return parse_json(body)
    msgpack = _msgpack()
    if msgpack is None:  # pragma: no cover - msgpack comes with the fast extra
        raise ApiError(
            415,
            "unsupported_media_type",
            "this collector cannot read MessagePack bodies; send JSON or install keeneye[fast]",
        )
    if not body:
        raise ApiError(400, "invalid_msgpack", "request body is empty; send a MessagePack map")
    document = _unpack_fast(msgpack, body)
    if document is not None:
        return document
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ApiError(
            400,
            "invalid_msgpack",
            f"request body is not valid MessagePack: {exc}; check the Content-Type header",
        ) from exc
