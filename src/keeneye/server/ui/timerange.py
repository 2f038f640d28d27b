"""The time range a page shows, read from (and written back to) the URL query.

The state lives in the URL so that a link can be shared: ``?range=7d`` (a preset ending now),
or ``?start=…&end=…`` (a custom range; the links in alert notifications use it), plus the
optional ``window`` (``hourly``/``daily``/…, or ``count`` for the count-based windows of
``analysis.count_windows``: which analysis windows to show) and ``version``.

>>> from datetime import datetime, timezone
>>> now = datetime(2026, 11, 23, 0, 1, tzinfo=timezone.utc)
>>> r = parse_range({"range": "24h"}, now, ("hourly", "daily"))
>>> r.start.isoformat(), r.window
('2026-11-22T00:01:00+00:00', 'hourly')
>>> parse_range({"range": "7d"}, now, ("hourly", "daily")).window
'daily'
>>> try:
...     parse_range({"range": "5y"}, now, ("daily",))
... except QueryError as exc:
...     print(exc)
range: '5y' is unknown; use one of 24h, 7d, 21d, 30d, or start= and end= for a custom range
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from keeneye.analysis.count_windows import COUNT
from keeneye.analysis.windows import WINDOW_SIZES

#: Presets of the picker: name → length (each ends at the server clock's now).
PRESETS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "21d": timedelta(days=21),
    "30d": timedelta(days=30),
}
DEFAULT_PRESET = "7d"
#: Longest custom range: longer ones would read too much per page view.
MAX_RANGE = timedelta(days=400)
#: Ranges up to this long show hourly windows by default (when the analysis computes them).
HOURLY_UP_TO = timedelta(days=3)
#: Window sizes the analysis knows, and how long each window is: the analysis's one table.
WINDOW_LENGTHS: Mapping[str, timedelta] = WINDOW_SIZES


class QueryError(ValueError):
    """A query parameter the UI cannot use; the message names it and the fix (→ a 400 page)."""


@dataclass(frozen=True)
class TimeRange:
    """``[start, end)`` in UTC, how it was chosen, and which windows and version to show."""

    start: datetime
    end: datetime
    preset: str | None
    window: str
    version: str | None = None

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def bucket_seconds(self) -> int:
        """Traffic bucket: hours for up to a month, days beyond."""
        return 3600 if self.length <= timedelta(days=31) else 86_400

    def params(self, **changes: str | None) -> dict[str, str]:
        """The query that reproduces this state, with ``changes`` applied (``None`` drops)."""
        out: dict[str, str] = {}
        if self.preset is not None:
            out["range"] = self.preset
        else:
            out["start"] = self.start.isoformat()
            out["end"] = self.end.isoformat()
        out["window"] = self.window
        if self.version is not None:
            out["version"] = self.version
        for key, value in changes.items():
            if key == "range" and value is not None:
                out.pop("start", None)
                out.pop("end", None)
            if value is None:
                out.pop(key, None)
            else:
                out[key] = value
        return out

    def query(self, **changes: str | None) -> str:
        """``?…`` for a link keeping this state (see :meth:`params`)."""
        return "?" + urlencode(self.params(**changes))

    def with_version(self, version: str | None) -> TimeRange:
        return replace(self, version=version)


def _time(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise QueryError(
            f"{name}: {value!r} is not a time; write it as ISO 8601, "
            "e.g. 2026-11-20T00:00:00+00:00 (a time without an offset is read as UTC)"
        ) from None
    # The picker's date-time inputs cannot send an offset; the form says its times are UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _default_window(length: timedelta, available: Sequence[str]) -> str:
    if "hourly" in available and (length <= HOURLY_UP_TO or "daily" not in available):
        return "hourly"
    return "daily" if "daily" in available else available[0]


def parse_range(query: Mapping[str, str], now: datetime, windows: Sequence[str]) -> TimeRange:
    """The range a request asks for; :class:`QueryError` names a bad parameter and the fix.

    ``windows`` are the window sizes the analysis computes (``analysis.windows``).
    """
    start_text, end_text = query.get("start") or None, query.get("end") or None
    preset = query.get("range") or None
    if start_text is not None or end_text is not None:
        if start_text is None or end_text is None:
            missing = "start" if start_text is None else "end"
            raise QueryError(f"{missing}: a custom range needs both start= and end=")
        start, end = _time("start", start_text), _time("end", end_text)
        if end <= start:
            raise QueryError(
                f"end: {end.isoformat()} is not after start {start.isoformat()}; swap them"
            )
        if end - start > MAX_RANGE:
            raise QueryError(
                f"start/end: the range spans {(end - start).days} days; "
                f"pick at most {MAX_RANGE.days} days"
            )
        preset = None
    else:
        preset = preset or DEFAULT_PRESET
        if preset not in PRESETS:
            raise QueryError(
                f"range: {preset!r} is unknown; use one of {', '.join(PRESETS)}, "
                "or start= and end= for a custom range"
            )
        end = now.astimezone(UTC)
        start = end - PRESETS[preset]
    available = [w for w in windows if w in WINDOW_LENGTHS or w == COUNT] or ["daily"]
    window = query.get("window") or None
    if window is None:
        window = _default_window(end - start, available)
    elif window not in available:
        raise QueryError(
            f"window: {window!r} is not computed by this server; use one of "
            f"{', '.join(available)} (analysis.windows)"
        )
    version = query.get("version") or None
    return TimeRange(start=start, end=end, preset=preset, window=window, version=version)
