"""Bounds on what one ingestion request may do to the store, checked before the write.

A wide or hostile batch must not lock out ingestion for everyone: each new feature is a
schema change (a column) and the store's writer is shared, so the collector bounds features
per event, new features per model per hour, name lengths and characters, versions, and
timestamps to a plausible range around now. Every refusal names the limit and its setting.

The per-model budget of new features lives on ``app.state.limits`` (made by ``create_app``);
routes fall back to a fresh budget when an app was built without one.

>>> from datetime import datetime, timezone
>>> limits = IngestLimits.from_settings(ServerSettings())
>>> check_name("x\\ny", "inputs", limits)
Traceback (most recent call last):
...
keeneye.server.errors.ApiError: inputs: feature name 'x\\ny' contains a control character; ...
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from keeneye.config import ServerSettings
from keeneye.server.errors import ApiError
from keeneye.server.ingest import bad, check_version
from keeneye.store.records import LabelEvent, PredictionColumns, PredictionEvent

_CONTROL = frozenset(chr(c) for c in (*range(32), 127))


@dataclass(frozen=True)
class IngestLimits:
    """The bounds, read once from :class:`~keeneye.config.ServerSettings`."""

    max_features_per_event: int
    max_new_features_per_hour: int
    max_name_length: int
    max_event_age: timedelta
    max_event_future: timedelta

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> IngestLimits:
        return cls(
            max_features_per_event=settings.max_features_per_event,
            max_new_features_per_hour=settings.max_new_features_per_hour,
            max_name_length=settings.max_name_length,
            max_event_age=timedelta(days=settings.max_event_age_days),
            max_event_future=timedelta(seconds=settings.max_event_future_seconds),
        )


def _has_control(text: str) -> bool:
    return not _CONTROL.isdisjoint(text)


def check_name(name: object, where: str, limits: IngestLimits) -> None:
    """A feature name: a non-empty string of printable characters, not too long."""
    if not isinstance(name, str) or not name:
        raise bad(where, f"feature name {name!r} is empty; name every feature")
    if len(name) > limits.max_name_length:
        raise bad(
            where,
            f"feature name {name[:40]!r}… is {len(name)} characters, longer than "
            f"server.max_name_length={limits.max_name_length}; shorten it",
        )
    if _has_control(name):
        raise bad(
            where, f"feature name {name!r} contains a control character; use printable characters"
        )


def plausible_range(now: datetime, limits: IngestLimits) -> tuple[datetime, datetime]:
    """``[earliest, latest]`` accepted at ``now``: whole UTC days (so that the OpenAPI document,
    written from the same function, states the exact bounds all day long)."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - limits.max_event_age, day + timedelta(days=1) + limits.max_event_future


def check_time_range(
    moments: Iterable[tuple[int, datetime]], what: str, now: datetime, limits: IngestLimits
) -> None:
    """Every timestamp within :func:`plausible_range`."""
    earliest, latest = plausible_range(now, limits)
    for index, moment in moments:
        if moment < earliest or moment > latest:
            raise bad(
                f"{what}[{index}].timestamp",
                f"{moment.isoformat()} is outside the plausible range {earliest.isoformat()} … "
                f"{latest.isoformat()} (server.max_event_age_days, "
                "server.max_event_future_seconds); check the clock or the unit (seconds)",
            )


def check_predictions(
    events: Sequence[PredictionEvent], now: datetime, limits: IngestLimits
) -> set[str]:
    """Refuse a batch beyond the bounds; returns the batch's feature names."""
    columns = PredictionColumns.of(events)
    inputs = columns.inputs
    if inputs and max(map(len, inputs)) > limits.max_features_per_event:
        index = next(i for i, d in enumerate(inputs) if len(d) > limits.max_features_per_event)
        raise bad(
            f"events[{index}].inputs",
            f"{len(inputs[index])} features, more than server.max_features_per_event="
            f"{limits.max_features_per_event}; send fewer features per event",
        )
    names: set[str] = set(columns.feature_names())
    for name in names:
        check_name(name, "inputs", limits)
    for version in set(columns.versions):
        check_version(version, f"events[{columns.versions.index(version)}].version")
    if len(columns):
        earliest, latest = plausible_range(now, limits)
        first, last = columns.time_range()
        if first < earliest or last > latest:
            check_time_range(enumerate(columns.timestamps), "events", now, limits)
    return names


def check_labels(labels: Sequence[LabelEvent], now: datetime, limits: IngestLimits) -> None:
    times = [label.timestamp for label in labels]
    if times:
        earliest, latest = plausible_range(now, limits)
        if min(times) < earliest or max(times) > latest:
            check_time_range(enumerate(times), "labels", now, limits)


@dataclass
class FeatureBudget:
    """New features per model in the last hour (each one a schema change of the store)."""

    per_hour: int
    window_seconds: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _known: dict[str, set[str]] = field(default_factory=dict)
    _added: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, model: str, names: set[str], known: Callable[[str], Iterable[str]]) -> None:
        """Raise 429 when ``names`` would add more new features than the hour allows."""
        seen = self._known.get(model)
        if seen is not None and names <= seen:
            return  # the usual batch: nothing new
        with self._lock:
            seen = self._known.setdefault(model, set())
            if not names <= seen:
                seen.update(known(model))  # the store's truth, once per batch with new names
            new = names - seen
            if not new:
                return
            now = self.clock()
            added = self._added.setdefault(model, deque())
            while added and added[0][0] < now - self.window_seconds:
                added.popleft()
            used = sum(count for _, count in added)
            if used + len(new) > self.per_hour:
                retry = int(added[0][0] + self.window_seconds - now) + 1 if added else 60
                raise ApiError(
                    429,
                    "too_many_new_features",
                    f"model {model!r} would gain {len(new)} new features, {used} were added in "
                    f"the last hour and server.max_new_features_per_hour={self.per_hour}; "
                    "each new feature is a schema change: send the features the model has, "
                    "or raise the limit",
                    {"new_features": len(new), "added_last_hour": used, "limit": self.per_hour},
                    headers={"Retry-After": str(max(1, retry))},
                )
            added.append((now, len(new)))
            seen.update(new)


@dataclass
class Limits:
    """What ``app.state.limits`` holds."""

    ingest: IngestLimits
    features: FeatureBudget
    #: Models known to have events or versions (labels for others are refused).
    models: set[str] = field(default_factory=set)


def limits_of(state: object) -> Limits:
    """``app.state.limits``, or fresh limits for an app built without them."""
    found = getattr(state, "limits", None)
    if isinstance(found, Limits):
        return found
    return make_limits(state.settings.server)  # type: ignore[attr-defined]


def make_limits(settings: ServerSettings) -> Limits:
    return Limits(
        IngestLimits.from_settings(settings), FeatureBudget(settings.max_new_features_per_hour)
    )
