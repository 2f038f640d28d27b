"""keeneye's one clock: where every part that needs the current time gets it.

A :class:`Clock` tells the current time as a timezone-aware UTC ``datetime`` (``clock.now()``).
:class:`SystemClock` is the wall clock; :class:`ManualClock` moves only when told to, so that
tests and the demo control time and nothing waits on the wall clock to see a window complete.
The analysis runner and workers, the stores (receive and registration times), the server (the
time it stamps and shows) and the notifier's callers all take a ``Clock``; where a plain
zero-argument function returning a ``datetime`` is handed in instead (``clock=lambda: t``),
:func:`as_clock` adapts it. Durations (timeouts, rate limits) use ``time.monotonic``, not a
clock; the SDK stamps events with epoch seconds of its own clock function.

>>> clock = ManualClock(datetime(2026, 1, 5, tzinfo=timezone.utc))
>>> as_clock(clock) is clock, as_clock(clock.now).now() == clock.now()
(True, True)
>>> as_clock(None).now().tzinfo is timezone.utc
True
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as a timezone-aware UTC ``datetime``."""

    def now(self) -> datetime: ...


#: A clock, or a zero-argument function returning the time (adapted by :func:`as_clock`).
ClockLike = Clock | Callable[[], datetime]


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


class FunctionClock:
    """A clock reading a zero-argument function (``lambda: t``, ``other_clock.now``)."""

    def __init__(self, function: Callable[[], datetime]) -> None:
        self._function = function

    def now(self) -> datetime:
        return self._function()


#: The wall clock shared by parts that were given none.
SYSTEM_CLOCK = SystemClock()


def as_clock(clock: ClockLike | None) -> Clock:
    """``clock`` as a :class:`Clock`: a clock as it is, a function wrapped, ``None`` the wall
    clock."""
    if clock is None:
        return SYSTEM_CLOCK
    if callable(getattr(clock, "now", None)):
        return typing.cast(Clock, clock)
    if callable(clock):  # (a callable whose ``now`` is a value, not a method, is a function)
        return FunctionClock(clock)
    raise TypeError(f"a clock needs a now() method or to be callable, got {clock!r}")


def utc_now() -> datetime:
    """The wall clock's time (for code that is given no clock, e.g. a CLI command)."""
    return SYSTEM_CLOCK.now()


def _aware(when: datetime, name: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. tzinfo=timezone.utc), got {when!r}")
    return when.astimezone(timezone.utc)


__all__ = [
    "SYSTEM_CLOCK",
    "Clock",
    "ClockLike",
    "FunctionClock",
    "ManualClock",
    "SystemClock",
    "as_clock",
    "utc_now",
]
