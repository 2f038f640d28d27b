"""Tumbling time windows: which ones exist, which are complete at a given time, and when a
computed window has to be recomputed because late events or labels landed in it.

Windows are aligned to the UTC epoch: an hourly window starts on the hour, a daily one at
midnight UTC. A window ``[start, end)`` is *complete* once ``now >= end + grace``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from keeneye.profile.report import Fingerprint

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

#: Window names accepted in the ``analysis.windows`` setting and their length.
WINDOW_SIZES: Mapping[str, timedelta] = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
}


@dataclass(frozen=True, order=True)
class Window:
    """One tumbling window ``[start, end)`` of a named size.

    >>> w = window_at("hourly", datetime(2026, 3, 2, 10, 17, tzinfo=timezone.utc))
    >>> w.start.isoformat(), w.end.isoformat(), w.name
    ('2026-03-02T10:00:00+00:00', '2026-03-02T11:00:00+00:00', 'hourly')
    >>> w.shifted(days=-7).start.isoformat()
    '2026-02-23T10:00:00+00:00'
    """

    start: datetime
    end: datetime
    name: str

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def shifted(self, **parts: float) -> Window:
        """The window of the same size moved by ``timedelta(**parts)`` (e.g. ``days=-1``)."""
        step = timedelta(**parts)
        return Window(self.start + step, self.end + step, self.name)

    def is_weekend(self, weekend_days: frozenset[int] | set[int] = frozenset({5, 6})) -> bool:
        """Whether the window starts on a weekend day (Monday = 0)."""
        return self.start.weekday() in weekend_days

    def label(self) -> str:
        return f"{self.name} {self.start.isoformat()}"


def window_length(name: str) -> timedelta:
    """The length of the window called ``name``; unknown names are refused with the choices."""
    try:
        return WINDOW_SIZES[name]
    except KeyError:
        raise ValueError(
            f"unknown window {name!r}; choose one of {', '.join(sorted(WINDOW_SIZES))}"
        ) from None


def window_at(name: str, when: datetime) -> Window:
    """The window of size ``name`` that contains ``when``."""
    if when.tzinfo is None:
        raise ValueError(f"window_at needs a timezone-aware time, got {when!r}")
    length = window_length(name)
    since_epoch = when.astimezone(timezone.utc) - _EPOCH
    start = _EPOCH + (since_epoch // length) * length
    return Window(start, start + length, name)


def complete_windows(
    name: str, since: datetime, now: datetime, *, grace: timedelta = timedelta(0)
) -> Iterator[Window]:
    """Every window of size ``name`` that overlaps ``[since, now)`` and is complete at ``now``.

    >>> since = datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)
    >>> now = datetime(2026, 1, 1, 3, 0, tzinfo=timezone.utc)
    >>> [w.start.hour for w in complete_windows("hourly", since, now)]
    [0, 1, 2]
    """
    window = window_at(name, since)
    while window.end + grace <= now:
        yield window
        window = window.shifted(seconds=window.length.total_seconds())


def needs_computing(current: Fingerprint, stored: Fingerprint | None) -> bool:
    """A window needs (re)computing when it never was, or when what it holds changed.

    >>> needs_computing(Fingerprint(10, 0, None), None)
    True
    >>> needs_computing(Fingerprint(10, 0, None), Fingerprint(10, 0, None))
    False
    >>> needs_computing(Fingerprint(10, 4, "2026-01-04T00:00:00+00:00"), Fingerprint(10, 0, None))
    True
    """
    return stored is None or current != stored
