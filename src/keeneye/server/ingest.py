"""Validate ingestion bodies (already parsed JSON) into store records — pure and fast.

A request-shape problem raises :class:`~keeneye.server.errors.ApiError` naming the field path
(``events[3].inputs: expected an object``); values *inside* ``inputs`` are kept exactly as sent,
because a wrong value is what monitoring must see (the store types and counts it).

>>> from datetime import datetime, timezone
>>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> body = {"version": "3", "events": [{"event_id": "a", "inputs": {"x": "cat"}, "prediction": 1}]}
>>> [(e.event_id, e.version, e.inputs, e.timestamp == now) for e in parse_predictions(body, now)]
[('a', '3', {'x': 'cat'}, True)]
>>> parse_predictions({"events": [{"event_id": "a", "inputs": []}]}, now)
Traceback (most recent call last):
...
keeneye.server.errors.ApiError: events[0].version: required (no batch-level "version" either)
"""

from __future__ import annotations

import difflib
import math
import re
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import numpy as np
import pyarrow as pa

from keeneye.server.errors import ApiError
from keeneye.store.records import LabelEvent, PredictionColumns, PredictionEvent

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
MAX_ID_LENGTH = 256
#: Longest version string (as ``POST /versions`` accepts).
MAX_VERSION_LENGTH = 128
_CONTROL = frozenset(chr(c) for c in (*range(32), 127))
_SCALARS = (str, int, float, bool, type(None))
_NUMBERS = (int, float)
_SCALAR_TYPES = frozenset(_SCALARS)
_PROBABILITY_TYPES = frozenset({type(None), dict, list})
_LATENCY_TYPES = frozenset({type(None), int, float})
_EPOCH_TYPES = frozenset({type(None), int, float})
_NUMBER_TYPES = frozenset({int, float})
_ISO_TYPES = frozenset({type(None), str})
#: The keys each object of the contract may carry; any other is a 422 naming it (a typo such
#: as ``"predicton"`` would otherwise drop the prediction in silence).
PREDICTION_BATCH_KEYS = frozenset({"version", "events"})
PREDICTION_KEYS = frozenset(
    {"event_id", "version", "timestamp", "inputs", "prediction", "probabilities", "latency_seconds"}
)
LABEL_BATCH_KEYS = frozenset({"labels"})
LABEL_KEYS = frozenset({"event_id", "label", "timestamp"})


def bad(field: str, problem: str) -> ApiError:
    """A 400 ``invalid_request`` naming the field path."""
    return ApiError(400, "invalid_request", f"{field}: {problem}", {"field": field})


def check_model_name(model: str) -> None:
    """Model names appear in URLs, Prometheus labels and file names: keep them plain."""
    if not MODEL_NAME.match(model):
        raise bad(
            "model",
            f"{model!r} is not a valid model name; use 1-128 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit",
        )


def check_version(version: str, where: str) -> None:
    """A version: at most 128 printable characters (as ``POST /versions`` accepts)."""
    if len(version) > MAX_VERSION_LENGTH:
        raise bad(where, f"longer than {MAX_VERSION_LENGTH} characters; shorten the version")
    if not _CONTROL.isdisjoint(version):
        raise bad(where, f"{version[:40]!r} contains a control character; use printable text")


def _type_name(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "a number",
        float: "a number",
    }
    return names.get(type(value), type(value).__name__)


def _is_number(value: Any) -> bool:
    return type(value) in _NUMBERS


def parse_timestamp(value: Any, field: str, now: datetime) -> datetime:
    """ISO 8601 with an offset, or epoch seconds; missing → ``now``."""
    if value is None:
        return now
    if _is_number(value):
        if not math.isfinite(value):
            raise bad(field, f"{value!r} is not a time; send epoch seconds or ISO 8601")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise bad(field, f"{value!r} is out of range as epoch seconds") from exc
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise bad(field, f"{value!r} is not ISO 8601 (e.g. 2026-11-27T02:00:00+00:00)") from exc
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise bad(field, f"{value!r} has no UTC offset; add one, e.g. '+00:00' or 'Z'")
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            raise bad(field, f"{value!r} is out of range when converted to UTC") from exc
    raise bad(field, f"expected an ISO 8601 string or epoch seconds, got {_type_name(value)}")


def check_keys(item: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    """A 422 naming the keys of ``item`` that the contract does not know (and the closest)."""
    unknown = sorted(str(k) for k in item.keys() - allowed)
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(allowed), n=1)
        hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    prefix = f"{where}." if where else ""
    raise ApiError(
        422,
        "unknown_field",
        f"{where or 'body'}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
        f"allowed: {', '.join(sorted(allowed))}",
        {"fields": [f"{prefix}{name}" for name in unknown]},
    )


def _envelope(body: Any, key: str, allowed: frozenset[str]) -> list[Any]:
    if not isinstance(body, dict):
        raise bad("body", f"expected a JSON object with a {key!r} list, got {_type_name(body)}")
    if not body.keys() <= allowed:
        check_keys(body, allowed, "")
    if key not in body:
        raise bad(key, f"required: the body must be {{{key!r}: [...]}}")
    items = body[key]
    if not isinstance(items, list):
        raise bad(key, f"expected a list, got {_type_name(items)}")
    return items


def _event_id(item: dict[str, Any], field: str) -> str:
    event_id = item.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        if event_id is None:
            raise bad(field, "required (a non-empty string)")
        if event_id == "":
            raise bad(field, "is empty; send a unique non-empty id (the SDK sends a uuid4 hex)")
        raise bad(field, f"expected a non-empty string, got {_type_name(event_id)}")
    if len(event_id) > MAX_ID_LENGTH:
        raise bad(field, f"longer than {MAX_ID_LENGTH} characters")
    return event_id


def check_batch_size(n: int, limit: int, what: str) -> None:
    if n > limit:
        raise ApiError(
            413,
            "batch_too_large",
            f"batch of {n} {what} exceeds the limit of {limit} (server.max_batch_events); "
            "send smaller batches",
            {"max_batch_events": limit, "received": n},
        )


def parse_predictions(body: Any, now: datetime, *, max_events: int = 10_000) -> PredictionColumns:
    """Validate ``{"version"?: str, "events": [...]}`` into prediction events (as columns)."""
    items = _envelope(body, "events", PREDICTION_BATCH_KEYS)
    check_batch_size(len(items), max_events, "events")
    default_version = body.get("version")
    if default_version is not None and (
        not isinstance(default_version, str) or not default_version
    ):
        raise bad("version", f"expected a non-empty string, got {_type_name(default_version)}")
    if default_version is not None:
        check_version(default_version, "version")
    columns = _columns(items, default_version, now)
    if columns is None:
        # Some event is unusual or wrong: event by event, to name the first problem.
        columns = PredictionColumns.of(_parse_one_by_one(items, default_version, now))
    return columns


def _columns(items: list[Any], default_version: Any, now: datetime) -> PredictionColumns | None:
    """The events as columns when every one is plainly valid; ``None`` otherwise.

    Field by field over the whole batch (``map`` and set-of-types checks run in C), which is
    several times faster than building and checking one event at a time. Every check here is
    at least as strict as :func:`_parse_one_by_one`'s, which gives the errors.
    """
    if set(map(type, items)) != {dict} or not set().union(*items) <= PREDICTION_KEYS:
        return None
    get = dict.get
    ids: list[Any] = list(map(get, items, repeat("event_id")))
    if set(map(type, ids)) != {str} or "" in ids or max(map(len, ids)) > MAX_ID_LENGTH:
        return None
    if default_version is not None and not any("version" in item for item in items):
        versions = [default_version] * len(items)  # the SDK's batch: one version for all
    else:
        versions = [item.get("version", default_version) for item in items]
        if set(map(type, versions)) != {str} or "" in versions:
            return None
    inputs: list[Any] = list(map(get, items, repeat("inputs")))
    predictions = list(map(get, items, repeat("prediction")))
    probabilities: list[Any] = list(map(get, items, repeat("probabilities")))
    latencies: list[Any] = list(map(get, items, repeat("latency_seconds")))
    if (
        set(map(type, inputs)) != {dict}
        or not set(map(type, predictions)) <= _SCALAR_TYPES
        or not set(map(type, probabilities)) <= _PROBABILITY_TYPES
        or not set(map(type, latencies)) <= _LATENCY_TYPES
        or any(latency < 0 for latency in latencies if latency is not None)
    ):
        return None
    timestamps = _times(list(map(get, items, repeat("timestamp"))), now)
    if timestamps is None:
        return None
    return PredictionColumns(
        event_ids=ids,
        versions=versions,
        timestamps=timestamps,
        inputs=inputs,
        predictions=predictions,
        probabilities=probabilities,
        latencies=latencies,
    )


def _times(values: list[Any], now: datetime) -> list[datetime] | pa.TimestampArray | None:
    """Event times from epoch seconds, ISO 8601 with an offset or nothing (``now``);
    ``None`` when any value needs :func:`parse_timestamp`'s error."""
    kinds = set(map(type, values))
    try:
        if kinds <= _NUMBER_TYPES:
            return _epoch_stamps(values)
        if kinds <= _EPOCH_TYPES:
            # fromtimestamp refuses NaN, ±inf and out-of-range values by raising
            return [now if v is None else datetime.fromtimestamp(v, UTC) for v in values]
        if kinds <= _ISO_TYPES:
            parsed = [None if v is None else datetime.fromisoformat(v) for v in values]
            if any(moment is not None and moment.utcoffset() is None for moment in parsed):
                return None  # no offset: refused, with the message that says so
            return [now if moment is None else moment.astimezone(UTC) for moment in parsed]
    except (OverflowError, OSError, ValueError):
        return None
    return None


#: Epoch seconds of 0001-01-01 and 9999-12-31 (the range of ``datetime``), one second inside.
_FIRST_SECOND, _LAST_SECOND = -62135596800 + 1, 253402300800 - 1


def _epoch_stamps(values: list[Any]) -> pa.TimestampArray | None:
    """Epoch seconds as UTC microseconds, rounded as ``datetime.fromtimestamp`` rounds them
    (the fraction of a second, half to even); ``None`` for a value it would refuse.

    >>> seconds = [1.0000005, -1.5, 1764201600.0005, 1764201600.0000005]
    >>> _epoch_stamps(seconds).to_pylist() == [datetime.fromtimestamp(s, UTC) for s in seconds]
    True
    """
    seconds = np.array(values, dtype=np.float64)
    if not (np.isfinite(seconds).all() and (seconds >= _FIRST_SECOND).all()):
        return None
    if not (seconds <= _LAST_SECOND).all():
        return None
    fraction, whole = np.modf(seconds)
    micros = whole.astype(np.int64) * 1_000_000 + np.rint(fraction * 1e6).astype(np.int64)
    return pa.array(micros, type=pa.timestamp("us", tz="UTC"))


def _parse_one_by_one(
    items: list[Any], default_version: Any, now: datetime
) -> list[PredictionEvent]:
    events: list[PredictionEvent] = []
    append = events.append
    for i, item in enumerate(items):
        # The usual event passes these checks inline; any failing check goes to
        # ``_check_prediction``, which raises the error naming the first problem.
        if type(item) is not dict:
            _check_prediction(item, i, default_version)
        event_id = item.get("event_id")
        version = item.get("version", default_version)
        inputs = item.get("inputs")
        prediction = item.get("prediction")
        probabilities = item.get("probabilities")
        latency = item.get("latency_seconds")
        if not (
            isinstance(event_id, str)
            and event_id
            and len(event_id) <= MAX_ID_LENGTH
            and isinstance(version, str)
            and version
            and isinstance(inputs, dict)
            and isinstance(prediction, _SCALARS)
            and (probabilities is None or isinstance(probabilities, dict | list))
            and (latency is None or (type(latency) in _NUMBERS and not latency < 0))
            and item.keys() <= PREDICTION_KEYS
        ):
            _check_prediction(item, i, default_version)
        append(
            PredictionEvent(
                event_id=event_id,
                version=version,
                timestamp=parse_timestamp(item.get("timestamp"), f"events[{i}].timestamp", now)
                if "timestamp" in item
                else now,
                inputs=inputs,
                prediction=prediction,
                probabilities=probabilities,  # an object or a list, kept as sent
                latency_seconds=latency,
            )
        )
    return events


def _check_prediction(item: Any, i: int, default_version: Any) -> None:
    """Raise the error for the first problem of ``events[i]`` (checked in field order)."""
    where = f"events[{i}]"
    if not isinstance(item, dict):
        raise bad(where, f"expected an object, got {_type_name(item)}")
    _event_id(item, f"{where}.event_id")
    version = item.get("version", default_version)
    if version is None:
        raise bad(f"{where}.version", 'required (no batch-level "version" either)')
    if not isinstance(version, str) or not version:
        raise bad(f"{where}.version", f"expected a non-empty string, got {_type_name(version)}")
    inputs = item.get("inputs")
    if not isinstance(inputs, dict):
        raise bad(f"{where}.inputs", f"expected an object, got {_type_name(inputs)}")
    prediction = item.get("prediction")
    if not isinstance(prediction, _SCALARS):
        raise bad(
            f"{where}.prediction",
            f"expected a number, string, boolean or null, got {_type_name(prediction)}",
        )
    probabilities = item.get("probabilities")
    if probabilities is not None and not isinstance(probabilities, dict | list):
        raise bad(
            f"{where}.probabilities",
            f"expected an object (class → probability), a list or null, "
            f"got {_type_name(probabilities)}",
        )
    latency = item.get("latency_seconds")
    if latency is not None and not _is_number(latency):
        raise bad(f"{where}.latency_seconds", f"expected a number, got {_type_name(latency)}")
    if latency is not None and latency < 0:
        raise bad(f"{where}.latency_seconds", f"{latency!r} is negative; send seconds >= 0")
    check_keys(item, PREDICTION_KEYS, where)


def parse_labels(body: Any, now: datetime, *, max_labels: int = 10_000) -> list[LabelEvent]:
    """Validate ``{"labels": [{"event_id", "label", "timestamp"?}]}`` into label events."""
    items = _envelope(body, "labels", LABEL_BATCH_KEYS)
    check_batch_size(len(items), max_labels, "labels")
    labels: list[LabelEvent] = []
    for i, item in enumerate(items):
        where = f"labels[{i}]"
        if not isinstance(item, dict):
            raise bad(where, f"expected an object, got {_type_name(item)}")
        if not item.keys() <= LABEL_KEYS:
            check_keys(item, LABEL_KEYS, where)
        event_id = _event_id(item, f"{where}.event_id")
        if "label" not in item:
            raise bad(f"{where}.label", "required")
        label = item["label"]
        if label is None or not isinstance(label, _SCALARS):
            raise bad(
                f"{where}.label", f"expected a number, string or boolean, got {_type_name(label)}"
            )
        labels.append(
            LabelEvent(
                event_id=event_id,
                label=label,
                timestamp=parse_timestamp(item.get("timestamp"), f"{where}.timestamp", now),
            )
        )
    return labels
