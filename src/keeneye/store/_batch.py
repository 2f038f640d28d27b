"""Turn a batch of prediction events into typed columns, invalid-value rows and schema changes.

Backend-independent and free of I/O: a backend hands in what it knows about the model's
features (:class:`FeatureState`), gets back Arrow arrays and what to record, and writes them in
one transaction. Keeping this here means every backend types values identically.

The rules (documented for users in ``docs/store.md``):

* a feature's stored type is decided by its first non-missing value (``numeric``,
  ``categorical`` or ``boolean``); a later value of another type is stored as NULL in the typed
  column and recorded as an invalid value with reason ``type``;
* ``type_change_after`` consecutive values of one other type record a type change (once per run);
* a feature absent from the version's registered schema is stored and recorded with reason
  ``unknown_feature``;
* lists and objects are not feature values: recorded with reason ``unsupported``;
* NaN and ±inf are numbers and are stored as sent; a missing key or ``null`` is NULL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import attrgetter
from typing import Any

import pyarrow as pa

from keeneye.errors import InputError
from keeneye.kinds import with_descriptors
from keeneye.store._values import (
    BOOLEAN,
    CATEGORICAL,
    NUMERIC,
    PREDICTION_KEY,
    REASON_TYPE,
    REASON_UNKNOWN_FEATURE,
    REASON_UNSUPPORTED,
    RESERVED_NAMES,
    UNSUPPORTED,
    as_float,
    dumps,
    raw_text,
    value_type,
)
from keeneye.store.records import PredictionColumns, PredictionEvent

ARROW_TYPES: dict[str, pa.DataType] = {
    NUMERIC: pa.float64(),
    CATEGORICAL: pa.string(),
    BOOLEAN: pa.bool_(),
}
TIMESTAMP = pa.timestamp("us", tz="UTC")
# Python types a column of each stored type accepts as is (bool is not an int here).
_CLEAN_TYPES: dict[str, frozenset[type]] = {
    NUMERIC: frozenset({float, int, type(None)}),
    CATEGORICAL: frozenset({str, type(None)}),
    BOOLEAN: frozenset({bool, type(None)}),
}


@dataclass(frozen=True)
class FeatureState:
    """What a backend knows about one feature (or the prediction / label pseudo-features)."""

    name: str
    type: str
    streak_type: str | None = None
    streak: int = 0
    reported_type: str | None = None


@dataclass(frozen=True)
class InvalidValue:
    event_id: str
    feature: str
    raw: str
    reason: str
    timestamp: datetime
    version: str | None


@dataclass
class PreparedBatch:
    """Everything one write needs, computed before the transaction starts."""

    events: PredictionColumns
    in_batch_duplicates: int
    system: dict[str, pa.Array]
    features: dict[str, pa.Array]
    invalid: list[InvalidValue]
    states: dict[str, FeatureState]
    new_features: list[str]
    type_changes: list[tuple[str, str, str]]
    version_features: set[tuple[str, str]] = field(default_factory=set)


def utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; a naive datetime is refused (it would be silently misplaced)."""
    if not isinstance(moment, datetime):
        raise InputError(f"{what} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(f"{what} {moment.isoformat()} has no time zone; pass an aware datetime")
    return moment.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime, what: str) -> int:
    """Microseconds since the epoch of an aware datetime (exact integer arithmetic).

    Arrow converts integers to timestamps far faster than it converts datetime objects.

    >>> micros(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC), "t")
    1000005
    """
    if not isinstance(moment, datetime):
        raise InputError(f"{what} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(f"{what} {moment.isoformat()} has no time zone; pass an aware datetime")
    return (moment - _EPOCH) // _MICROSECOND


def _timestamps(events: PredictionColumns) -> pa.Array:
    """The events' timestamps as an Arrow array (naive datetimes refused by ``micros``)."""
    if events.utc_stamps is not None:
        return events.utc_stamps  # the collector's: already UTC microseconds
    times = events.timestamps
    if set(map(type, times)) == {datetime} and set(map(attrgetter("tzinfo"), times)) == {UTC}:
        # Fast path (the collector's events): plain UTC datetimes, converted by Arrow in C.
        return pa.array(times, type=TIMESTAMP)
    return pa.array(
        [
            micros(moment, f"event {event_id!r} timestamp")
            for moment, event_id in zip(times, events.event_ids, strict=True)
        ],
        type=TIMESTAMP,
    )


def _check_events(events: Sequence[PredictionEvent]) -> None:
    """Raise the error that names the first malformed event."""
    for index, event in enumerate(events):
        if not isinstance(event.event_id, str) or not event.event_id:
            raise InputError(f"event {index}: event_id must be a non-empty string")
        if not isinstance(event.version, str) or not event.version:
            raise InputError(f"event {event.event_id!r}: version must be a non-empty string")
        if not isinstance(event.inputs, Mapping):
            raise InputError(f"event {event.event_id!r}: inputs must be a mapping")
        latency = event.latency_seconds
        if latency is not None and value_type(latency) != NUMERIC:
            raise InputError(
                f"event {event.event_id!r}: latency_seconds must be a number or None, "
                f"got {latency!r}"
            )


def _float_array(values: list[Any]) -> pa.Array:
    """Numbers (ints, floats, numpy scalars) as float64; ints beyond int64 via ``float()``."""
    try:
        return pa.array(values, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else as_float(v) for v in values], type=pa.float64())


def dedupe(events: Sequence[PredictionEvent]) -> tuple[PredictionColumns, int]:
    """First occurrence of each ``event_id``, and how many repeats were dropped."""
    columns = PredictionColumns.of(events)
    ids = columns.event_ids
    if len(set(ids)) == len(ids):
        return columns, 0  # the usual batch
    first: dict[str, int] = {}
    for row, event_id in enumerate(ids):
        first.setdefault(event_id, row)
    return columns.take(list(first.values())), len(ids) - len(first)


class _Typer:
    """Types the values of one feature in event order, tracking the run of other-typed values."""

    def __init__(self, state: FeatureState, type_change_after: int) -> None:
        self.state = state
        self.after = type_change_after
        self.changes: list[tuple[str, str, str]] = []

    def accept(self, kind: str) -> bool:
        """Whether a value of ``kind`` fits; updates the run of mismatching values."""
        state = self.state
        if kind == state.type:
            if state.streak:
                self.state = replace(state, streak_type=None, streak=0, reported_type=None)
            return True
        streak = state.streak + 1 if state.streak_type == kind else 1
        reported = state.reported_type if state.streak_type == kind else None
        if streak >= self.after and reported != kind:
            self.changes.append((state.name, state.type, kind))
            reported = kind
        self.state = replace(state, streak_type=kind, streak=streak, reported_type=reported)
        return False


def _clean_array(values: list[Any], kind: str) -> pa.Array | None:
    """``values`` as the Arrow array of a column of ``kind`` when each one already has that
    type (ints count as numbers, not booleans); ``None`` when any needs looking at.

    Arrow infers the values' common type in C: cheaper than checking each Python type first.
    Booleans among numbers, bytes among strings or an int beyond int64 make the inference
    fail or give another type.
    """
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None
    target = ARROW_TYPES[kind]
    if array.type == target:
        return array
    if array.type == pa.null():
        return pa.nulls(len(values), type=target)
    if kind == NUMERIC and array.type == pa.int64():
        try:  # a safe cast: an int that a double cannot hold exactly goes the slow way
            return array.cast(target)
        except pa.ArrowInvalid:
            return None
    return None


def _first_type(values: Sequence[Any]) -> str | None:
    for value in values:
        kind = value_type(value)
        if kind is not None and kind != UNSUPPORTED:
            return kind
    return None


def prepare_predictions(
    events: Sequence[PredictionEvent],
    known: Mapping[str, FeatureState],
    *,
    schema_of: Callable[[str], frozenset[str] | None],
    type_change_after: int,
    known_pairs: Set[tuple[str, str]] = frozenset(),
) -> PreparedBatch:
    """Type a batch against the known features; see the module docstring for the rules.

    ``known_pairs`` are the (version, feature) pairs the backend has already recorded; only
    new ones are looked for and returned in ``version_features``.
    """
    kept, in_batch_duplicates = dedupe(events)
    # Column by column (list comprehensions and set-of-types checks are several times faster
    # than one Python loop with appends); a failed check finds the culprit on the slow path.
    ids = kept.event_ids
    versions = kept.versions
    latencies = kept.latencies
    inputs = kept.inputs
    if not (
        set(map(type, ids)) == {str}
        and set(map(type, versions)) == {str}
        and "" not in ids
        and "" not in versions
        and set(map(type, latencies)) <= _CLEAN_TYPES[NUMERIC]
        and all(isinstance(d, Mapping) for d in inputs)
    ):
        _check_events(kept)
    stamps = _timestamps(kept)
    probabilities = [None if p is None else dumps(p) for p in kept.probabilities]
    names = kept.feature_names()
    for name in names:
        if name in RESERVED_NAMES or not isinstance(name, str) or not name:
            raise InputError(f"feature name {name!r} is reserved or empty; rename the feature")

    invalid: list[InvalidValue] = []
    states: dict[str, FeatureState] = {}
    new_features: list[str] = []
    changes: list[tuple[str, str, str]] = []
    arrays: dict[str, pa.Array] = {}
    version_features: set[tuple[str, str]] = set()

    batch_versions = set(versions)
    # map(dict.get, …) runs in C: the per-value cost that dominates a batch.
    plain = all(type(d) is dict for d in inputs)
    for name in names:
        if plain:
            values = list(map(dict.get, inputs, repeat(name)))  # type: ignore[arg-type]
        else:
            values = [d.get(name) for d in inputs]
        if any((v, name) not in known_pairs for v in batch_versions):
            version_features.update(
                (version, name) for version, d in zip(versions, inputs, strict=True) if name in d
            )
        state = known.get(name)
        clean = None if state is None else _clean_array(values, state.type)
        if state is not None and clean is not None:
            # Fast path (the usual batch): every value already has the column's type.
            arrays[name] = clean
            if state.streak and clean.null_count < len(values):
                state = replace(state, streak_type=None, streak=0, reported_type=None)
            states[name] = state
            continue
        if state is None:
            first = _first_type(values)
            if first is not None:
                state = FeatureState(name, first)
                new_features.append(name)
        typer = _Typer(state, type_change_after) if state is not None else None
        typed: list[Any] = []
        for row, value in enumerate(values):
            kind = value_type(value)
            if kind is None:
                typed.append(None)
                continue
            if kind == UNSUPPORTED or typer is None:
                typed.append(None)
                invalid.append(_invalid(kept, row, name, value, REASON_UNSUPPORTED))
                continue
            if typer.accept(kind):
                typed.append(as_float(value) if kind == NUMERIC else value)
            else:
                typed.append(None)
                invalid.append(_invalid(kept, row, name, value, REASON_TYPE))
        if typer is None or state is None:
            continue
        states[name] = typer.state
        changes.extend(typer.changes)
        arrays[name] = pa.array(typed, type=ARROW_TYPES[state.type])

    # Unknown features: only for versions whose schema is registered (e.g. by a baseline).
    schemas: dict[str, frozenset[str] | None] = {}
    for version in batch_versions:
        schema = schema_of(version)
        # A text or image column's descriptors (``review.chars`` …) belong to it.
        schemas[version] = None if schema is None else with_descriptors(schema, names)
    # The usual batch sends only known features: then no event needs looking at.
    if any(schema is not None and not schema.issuperset(names) for schema in schemas.values()):
        for row, version in enumerate(versions):
            schema = schemas[version]
            if schema is None:
                continue
            for name, value in inputs[row].items():
                if name not in schema:
                    invalid.append(_invalid(kept, row, name, value, REASON_UNKNOWN_FEATURE))

    pred_values = kept.predictions
    pred_arrays: dict[str, pa.Array] = {
        kind: pa.nulls(len(kept), type=ARROW_TYPES[kind]) for kind in ARROW_TYPES
    }
    pred_state = known.get(PREDICTION_KEY)
    if pred_state is not None and set(map(type, pred_values)) <= _CLEAN_TYPES[pred_state.type]:
        # Fast path: every prediction has the model's prediction type.
        pred_arrays[pred_state.type] = pa.array(pred_values, type=ARROW_TYPES[pred_state.type])
        if pred_state.streak and pred_arrays[pred_state.type].null_count < len(kept):
            pred_state = replace(pred_state, streak_type=None, streak=0, reported_type=None)
        states[PREDICTION_KEY] = pred_state
    else:
        pred_cols: dict[str, list[Any]] = {kind: [None] * len(kept) for kind in ARROW_TYPES}
        if pred_state is None:
            first = _first_type(pred_values)
            if first is not None:
                pred_state = FeatureState(PREDICTION_KEY, first)
                new_features.append(PREDICTION_KEY)
        pred_typer = _Typer(pred_state, type_change_after) if pred_state is not None else None
        for row, value in enumerate(pred_values):
            kind = value_type(value)
            if kind is None:
                continue
            if kind in pred_cols:  # every value is kept, in the column of its own type
                pred_cols[kind][row] = as_float(value) if kind == NUMERIC else value
            if kind == UNSUPPORTED or pred_typer is None:
                invalid.append(_invalid(kept, row, PREDICTION_KEY, value, REASON_UNSUPPORTED))
            elif not pred_typer.accept(kind):
                invalid.append(_invalid(kept, row, PREDICTION_KEY, value, REASON_TYPE))
        if pred_typer is not None:
            states[PREDICTION_KEY] = pred_typer.state
            changes.extend(pred_typer.changes)
        pred_arrays = {
            kind: pa.array(pred_cols[kind], type=ARROW_TYPES[kind]) for kind in pred_cols
        }

    system = {
        "event_id": pa.array(ids, type=pa.string()),
        "version": pa.array(versions, type=pa.string()),
        "ts": stamps,
        "prediction_num": pred_arrays[NUMERIC],
        "prediction_str": pred_arrays[CATEGORICAL],
        "prediction_bool": pred_arrays[BOOLEAN],
        "probabilities": pa.array(probabilities, type=pa.string()),
        "latency_seconds": _float_array(latencies),
    }
    return PreparedBatch(
        events=kept,
        in_batch_duplicates=in_batch_duplicates,
        system=system,
        features=arrays,
        invalid=invalid,
        states=states,
        new_features=new_features,
        type_changes=changes,
        version_features=version_features,
    )


def _invalid(
    events: PredictionColumns, row: int, feature: str, value: Any, reason: str
) -> InvalidValue:
    return InvalidValue(
        events.event_ids[row],
        feature,
        raw_text(value),
        reason,
        events.timestamps[row].astimezone(UTC),
        events.versions[row],
    )


def invalid_table(rows: Sequence[InvalidValue], model: str) -> pa.Table:
    """The invalid-values rows of a batch as an Arrow table (the backend's insert source)."""
    return pa.table(
        {
            "model": pa.array([model] * len(rows), type=pa.string()),
            "event_id": pa.array([r.event_id for r in rows], type=pa.string()),
            "feature": pa.array([r.feature for r in rows], type=pa.string()),
            "raw": pa.array([r.raw for r in rows], type=pa.string()),
            "reason": pa.array([r.reason for r in rows], type=pa.string()),
            "ts": pa.array([r.timestamp for r in rows], type=TIMESTAMP),
            "version": pa.array([r.version for r in rows], type=pa.string()),
        }
    )
