"""MessagePack encoding of the SDK's event batches (the compact alternative to JSON).

Each event is packed on its own (so one unencodable event is dropped, not its batch) and a
batch is the envelope's header followed by the packed events: a MessagePack array is its
length header and then its items, so joining the parts gives the same bytes as packing the
whole document at once.

>>> import msgpack
>>> parts = [pack_event({"event_id": "a", "inputs": {"x": 1.5}})]
>>> msgpack.unpackb(prediction_body("3", parts))
{'version': '3', 'events': [{'event_id': 'a', 'inputs': {'x': 1.5}}]}
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MEDIA_TYPE = "application/msgpack"


def available() -> bool:
    """Whether the ``msgpack`` package (the ``fast`` extra) can be imported."""
    try:
        import msgpack  # noqa: F401
    except ImportError:  # pragma: no cover - msgpack comes with the fast extra
        return False
    return True


def _default(value: Any) -> Any:
    """What the JSON encoder does for the same non-native types (see ``transport``)."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__.startswith("numpy"):
        return item() if getattr(value, "ndim", 0) == 0 else value.tolist()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"a value of type {type(value).__name__} cannot be encoded")


def packer() -> Callable[[Any], bytes]:
    """A packing function (one ``msgpack.Packer``; use it from one thread)."""
    import msgpack

    return msgpack.Packer(default=_default, use_bin_type=True, datetime=False).pack


def pack_event(event: Any) -> bytes:
    """One event as MessagePack (a fresh packer: for tests and one-offs)."""
    return packer()(event)


def _array_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x90 | n,))
    if n < 1 << 16:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def _str(text: str) -> bytes:
    return pack_event(text)


def prediction_body(version: str, parts: Sequence[bytes]) -> bytes:
    """``{"version": version, "events": [...]}`` from packed events."""
    head = b"\x82" + _str("version") + _str(version) + _str("events")
    return head + _array_header(len(parts)) + b"".join(parts)


def label_body(parts: Sequence[bytes]) -> bytes:
    """``{"labels": [...]}`` from packed labels."""
    return b"\x81" + _str("labels") + _array_header(len(parts)) + b"".join(parts)
