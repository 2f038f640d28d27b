"""MessagePack encoding of the SDK's event batches (the compact alternative to JSON).

A batch is packed by one ``msgpack.Packer`` into one buffer: the envelope's header, then each
queued event as the contract's event map — built from the queued tuple without an intermediate
copy, and with a pause every few events so that the predicting threads get the GIL back. An
event that cannot be packed raises ``TypeError``/``ValueError``/``OverflowError`` for the whole
batch; the transport then encodes that batch event by event as JSON, which drops only the
unencodable events.

>>> import msgpack
>>> body = prediction_body("3", [("p", "a", 1.5, {"x": 1.5}, 0.5, None, 0.001)])
>>> msgpack.unpackb(body)
{'version': '3', 'events': [{'event_id': 'a', 'timestamp': 1.5, 'inputs': {'x': 1.5}, \
'prediction': 0.5, 'latency_seconds': 0.001}]}
>>> msgpack.unpackb(label_body([("l", "a", 2.0, "yes")]))
{'labels': [{'event_id': 'a', 'label': 'yes', 'timestamp': 2.0}]}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MEDIA_TYPE = "application/msgpack"

#: Events packed between two pauses (~20 µs of packing at 20 features).
PAUSE_EVERY = 16

_SCALARS = frozenset((str, int, float, bool, type(None)))


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


def _packer() -> Any:
    import msgpack

    return msgpack.Packer(default=_default, use_bin_type=True, datetime=False, autoreset=False)


def _no_pause() -> None:
    return None


def prediction_body(
    version: str,
    items: Sequence[tuple[Any, ...]],
    pause: Callable[[], None] = _no_pause,
) -> bytes:
    """``{"version": version, "events": [...]}`` of queued predictions.

    ``items`` are the transport's queued tuples ``("p", event_id, timestamp, inputs,
    prediction, probabilities, latency)``; ``pause`` is called every :data:`PAUSE_EVERY` events.
    A prediction that is not a scalar raises ``TypeError``.
    """
    packer = _packer()
    packer.pack_map_header(2)
    packer.pack("version")
    packer.pack(version)
    packer.pack("events")
    packer.pack_array_header(len(items))
    pack = packer.pack
    n = 0
    for _, event_id, timestamp, inputs, prediction, probabilities, latency in items:
        if type(prediction) not in _SCALARS:
            raise TypeError(f"prediction of type {type(prediction).__name__}")
        event = {
            "event_id": event_id,
            "timestamp": timestamp,
            "inputs": inputs,
            "prediction": prediction,
        }
        if probabilities is not None:
            event["probabilities"] = probabilities
        if latency is not None:
            event["latency_seconds"] = latency
        pack(event)
        n += 1
        if n == PAUSE_EVERY:
            n = 0
            pause()
    return bytes(packer.bytes())


def label_body(items: Sequence[tuple[Any, ...]]) -> bytes:
    """``{"labels": [...]}`` of queued labels ``("l", event_id, timestamp, label)``."""
    packer = _packer()
    packer.pack_map_header(1)
    packer.pack("labels")
    packer.pack_array_header(len(items))
    for _, event_id, timestamp, label in items:
        packer.pack({"event_id": event_id, "label": label, "timestamp": timestamp})
    return bytes(packer.bytes())
