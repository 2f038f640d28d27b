"""Where the analysis gets the time from: the wall clock in production, a hand-driven one in
tests and in the demo, so that nothing ever waits on the wall clock to see a window complete."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as a timezone-aware UTC ``datetime``."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC.

    >>> SystemClock().now().tzinfo is timezone.utc
    True
    """

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to (thread-safe).

    >>> clock = ManualClock(datetime(2026, 1, 5, tzinfo=timezone.utc))
    >>> clock.advance(hours=25)
    >>> clock.now().isoformat()
    '2026-01-06T01:00:00+00:00'
    """

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start, "start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when``; moving backwards is refused (windows would complete twice)."""
        when = _aware(when, "when")
        with self._lock:
            if when < self._now:
                raise ValueError(
                    f"ManualClock cannot go back from {self._now.isoformat()} to "
                    f"{when.isoformat()}; create a new clock instead"
                )
            self._now = when

    def advance(self, delta: timedelta | None = None, **parts: float) -> None:
        """Move forward by ``delta`` or by ``timedelta(**parts)`` (e.g. ``hours=1``)."""
        step = delta if delta is not None else timedelta(**parts)
        if step < timedelta(0):
            raise ValueError(f"ManualClock.advance needs a non-negative step, got {step}")
        with self._lock:
            self._now = self._now + step


def _aware(when: datetime, name: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. tzinfo=timezone.utc), got {when!r}")
    return when.astimezone(timezone.utc)
