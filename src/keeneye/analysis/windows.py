"""Tumbling time windows: which ones exist, which are complete at a given time, and when a
computed window has to be recomputed because late events or labels landed in it.

Windows are aligned in UTC: an hourly window starts on the hour, a daily one at midnight, a
weekly one on Monday at midnight (ISO weeks), a monthly one on the first of the calendar month.
A window ``[start, end)`` is *complete* once ``now >= end + grace``. Which sizes a model gets
is ``analysis.windows``, or ``analysis.model_windows[model]`` for that model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from keeneye.profile.report import Fingerprint

if TYPE_CHECKING:
    from keeneye.config import AnalysisSettings

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: The first Monday after the epoch: weekly windows are aligned to it (ISO weeks).
_MONDAY = datetime(1970, 1, 5, tzinfo=timezone.utc)

#: Fixed-length window names accepted in the ``analysis.windows`` setting and their length.
WINDOW_SIZES: Mapping[str, timedelta] = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
}
#: Calendar months: their length varies (28 to 31 days).
MONTHLY = "monthly"
#: Every window name, shortest first.
WINDOW_NAMES = (*WINDOW_SIZES, MONTHLY)


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

    def following(self) -> Window:
        """The next window of the same size (calendar months for ``monthly``).

        >>> jan = window_at("monthly", datetime(2026, 1, 20, tzinfo=timezone.utc))
        >>> feb = jan.following()
        >>> feb.start.date().isoformat(), feb.end.date().isoformat()
        ('2026-02-01', '2026-03-01')
        """
        if self.name == MONTHLY:
            return Window(self.end, _add_months(self.end, 1), self.name)
        return self.shifted(seconds=self.length.total_seconds())

    def previous(self) -> Window:
        """The window of the same size just before this one.

        >>> mar = window_at("monthly", datetime(2026, 3, 2, tzinfo=timezone.utc))
        >>> mar.previous().start.date().isoformat()
        '2026-02-01'
        """
        if self.name == MONTHLY:
            return Window(_add_months(self.start, -1), self.start, self.name)
        return self.shifted(seconds=-self.length.total_seconds())

    def is_weekend(self, weekend_days: frozenset[int] | set[int] = frozenset({5, 6})) -> bool:
        """Whether the window starts on a weekend day (Monday = 0)."""
        return self.start.weekday() in weekend_days

    def label(self) -> str:
        return f"{self.name} {self.start.isoformat()}"


def _add_months(when: datetime, months: int) -> datetime:
    index = when.year * 12 + when.month - 1 + months
    return when.replace(year=index // 12, month=index % 12 + 1, day=1)


def window_length(name: str) -> timedelta:
    """The (nominal) length of the window called ``name`` — a calendar month counts as
    365.25/12 days; unknown names are refused with the choices.

    >>> window_length("weekly"), window_length("monthly").days
    (datetime.timedelta(days=7), 30)
    """
    if name == MONTHLY:
        return timedelta(days=365.25 / 12)
    try:
        return WINDOW_SIZES[name]
    except KeyError:
        raise ValueError(
            f"unknown window {name!r}; choose one of {', '.join(WINDOW_NAMES)}"
        ) from None


def window_at(name: str, when: datetime) -> Window:
    """The window of size ``name`` that contains ``when``.

    >>> w = window_at("weekly", datetime(2026, 3, 4, 15, tzinfo=timezone.utc))  # a Wednesday
    >>> w.start.isoformat(), w.end.isoformat()
    ('2026-03-02T00:00:00+00:00', '2026-03-09T00:00:00+00:00')
    """
    if when.tzinfo is None:
        raise ValueError(f"window_at needs a timezone-aware time, got {when!r}")
    when = when.astimezone(timezone.utc)
    if name == MONTHLY:
        start = datetime(when.year, when.month, 1, tzinfo=timezone.utc)
        return Window(start, _add_months(start, 1), name)
    length = window_length(name)
    anchor = _MONDAY if name == "weekly" else _EPOCH
    start = anchor + ((when - anchor) // length) * length
    return Window(start, start + length, name)


def windows_for(settings: AnalysisSettings, model: str) -> list[str]:
    """The window sizes computed for ``model``: ``analysis.model_windows[model]`` when set,
    else ``analysis.windows``."""
    chosen = settings.model_windows.get(model)
    return list(settings.windows if chosen is None else chosen)


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
        window = window.following()


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
