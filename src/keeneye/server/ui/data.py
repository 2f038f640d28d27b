"""What the pages show, read from the store: stored analysis results, alert history, counts.

Nothing here recomputes statistics: the analysis jobs stored them per window. The only raw
reads are event counts (one SQL aggregate) and, on the feature page, one window of one column.

>>> recs = [
...     {"key": "m/1/traffic/daily", "status": "firing", "at": "2026-01-02T00:01:00+00:00",
...      "model": "m", "version": "1", "rule": "traffic", "subject": "daily",
...      "severity": "warning", "summary": "traffic fell by 50%",
...      "window_start": "2026-01-01T00:00:00+00:00", "window_end": "2026-01-02T00:00:00+00:00"},
...     {"key": "m/1/traffic/daily", "status": "resolved", "at": "2026-01-03T00:01:00+00:00"},
... ]
>>> [(e.rule, e.open, e.resolved_at.day) for e in alert_episodes(recs)]
[('traffic', False, 3)]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from keeneye.analysis.windows import WINDOW_NAMES, window_at
from keeneye.profile.stored import window_of
from keeneye.server.ui.timerange import TimeRange
from keeneye.store.base import EventStore
from keeneye.store.records import StoredResult

#: Newest alert records read per page (the history of a busy fleet; older episodes are
#: closed long ago).
ALERT_HISTORY_LIMIT = 5000

HEALTH_ORDER = {"ok": 0, "warning": 1, "alert": 2}


@dataclass
class AlertEpisode:
    """One alert from its first ``firing`` record to its ``resolved`` one (if any)."""

    key: str
    model: str
    version: str
    rule: str
    subject: str
    severity: str
    summary: str
    window_start: datetime | None
    window_end: datetime | None
    fired_at: datetime | None
    value: float | None = None
    threshold: float | None = None
    resolved_at: datetime | None = None
    notifications: int = 0
    failed: int = 0

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    @property
    def status(self) -> str:
        return "open" if self.open else "resolved"


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def alert_episodes(records: Iterable[Mapping[str, Any]]) -> list[AlertEpisode]:
    """Fold alert state changes (oldest first) into episodes, newest episode first."""
    episodes: list[AlertEpisode] = []
    current: dict[str, AlertEpisode] = {}
    for rec in records:
        key, status = str(rec.get("key", "")), rec.get("status")
        episode = current.get(key)
        if status == "firing":
            if episode is None:
                episode = AlertEpisode(
                    key=key,
                    model=str(rec.get("model", "")),
                    version=str(rec.get("version", "")),
                    rule=str(rec.get("rule", "")),
                    subject=str(rec.get("subject", "")),
                    severity=str(rec.get("severity", "warning")),
                    summary=str(rec.get("summary", "")),
                    window_start=_when(rec.get("window_start")),
                    window_end=_when(rec.get("window_end")),
                    fired_at=_when(rec.get("at")),
                )
                current[key] = episode
                episodes.append(episode)
            # A repeat (e.g. a new severity or a later window) updates what the episode shows.
            episode.severity = str(rec.get("severity", episode.severity))
            episode.summary = str(rec.get("summary", episode.summary))
            episode.window_start = _when(rec.get("window_start")) or episode.window_start
            episode.window_end = _when(rec.get("window_end")) or episode.window_end
            episode.value, episode.threshold = rec.get("value"), rec.get("threshold")
        elif status == "resolved" and episode is not None:
            episode.resolved_at = _when(rec.get("at"))
            del current[key]
        elif status == "sent" and episode is not None:
            episode.notifications += 1
        elif status == "failed" and episode is not None:
            episode.failed += 1
    return episodes[::-1]


def model_alerts(store: EventStore, model: str | None = None) -> list[AlertEpisode]:
    """Alert episodes (of one model, or all), newest first."""
    records = store.list_alerts(model, limit=ALERT_HISTORY_LIMIT)
    return alert_episodes(reversed(records))


def health(open_alerts: Sequence[AlertEpisode]) -> str:
    """``alert`` with an open critical alert, ``warning`` with an open one, else ``ok``.

    >>> health([])
    'ok'
    """
    severities = {a.severity for a in open_alerts if a.open}
    if "critical" in severities:
        return "alert"
    return "warning" if severities else "ok"


def in_range(episode: AlertEpisode, tr: TimeRange) -> bool:
    """Open alerts always show; closed ones when their window or life overlaps the range."""
    if episode.open:
        return True
    begin = episode.window_start or episode.fired_at
    finish = episode.resolved_at or episode.window_end
    return begin is not None and finish is not None and begin < tr.end and finish > tr.start


def window_spans(name: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``(start, end)`` of every window of size ``name`` that overlaps ``[start, end)``.

    >>> from datetime import timezone
    >>> t = datetime(2026, 3, 2, 10, 30, tzinfo=timezone.utc)
    >>> [s.hour for s, _ in window_spans("hourly", t, t + timedelta(hours=2))]
    [10, 11, 12]
    """
    spans = []
    window = window_at(name, start)
    while window.start < end:
        spans.append((window.start, window.end))
        window = window.following()
    return spans


def results(store: EventStore, model: str, kind: str, tr: TimeRange) -> list[StoredResult]:
    """Stored results of ``kind`` whose window (of the range's size) overlaps the range.

    Time windows are loaded by their exact spans, so that a daily page does not read (and
    parse) the hourly results of the same days."""
    if tr.window in WINDOW_NAMES:
        spans = window_spans(tr.window, tr.start, tr.end)
        found = store.load_results(
            model, kind=kind, start=spans[0][0], end=spans[-1][1], windows=spans
        )
    else:
        found = store.load_results(model, kind=kind, end=tr.end + timedelta(days=1))
    return [
        r
        for r in found
        if (window_of(r) or tr.window) == tr.window
        and r.window_start < tr.end
        and r.window_end > tr.start
        and (tr.version is None or r.version in (tr.version, "*"))
    ]


@dataclass(frozen=True)
class Series:
    """Counts per bucket: ``x`` bucket starts, ``y`` events."""

    x: list[datetime] = field(default_factory=list)
    y: list[int] = field(default_factory=list)


def traffic(
    store: EventStore,
    model: str,
    start: datetime,
    end: datetime,
    bucket_seconds: int,
    *,
    version: str | None = None,
    shift: timedelta = timedelta(0),
) -> Series:
    """Events per bucket in ``[start, end)`` (all versions summed), every bucket present.

    ``shift`` reads the same span that much earlier and moves it forward onto this one (the
    day-ago and week-ago overlays).
    """
    # Buckets aligned to the clock (whole hours/days), whatever the range's start: the store
    # counts from the start it is given.
    first = datetime.fromtimestamp(
        (start.timestamp() // bucket_seconds) * bucket_seconds, tz=start.tzinfo
    )
    table = store.count_events(
        model, first - shift, end - shift, version=version, bucket_seconds=bucket_seconds
    )
    counts: dict[float, int] = {}
    for row in table.to_pylist():
        at = (row["bucket_start"] + shift).timestamp()
        counts[at] = counts.get(at, 0) + int(row["events"])
    step = timedelta(seconds=bucket_seconds)
    xs: list[datetime] = []
    at = first
    while at < end:
        xs.append(at)
        at += step
    return Series(x=xs, y=[counts.get(x.timestamp(), 0) for x in xs])


def traffic_overlays(
    store: EventStore,
    model: str,
    start: datetime,
    end: datetime,
    bucket_seconds: int,
    shifts: Sequence[timedelta],
    *,
    version: str | None = None,
) -> list[Series]:
    """:func:`traffic` of ``[start, end)`` for every shift (the same span that much earlier,
    moved onto this one), from one count over the whole span."""
    first = datetime.fromtimestamp(
        (start.timestamp() // bucket_seconds) * bucket_seconds, tz=start.tzinfo
    )
    # Shifts are whole buckets (a day, a week) for hourly and daily buckets alike.
    earliest = first - max(shifts, default=timedelta(0))
    table = store.count_events(model, earliest, end, version=version, bucket_seconds=bucket_seconds)
    counts: dict[float, int] = {}
    for row in table.to_pylist():
        at = row["bucket_start"].timestamp()
        counts[at] = counts.get(at, 0) + int(row["events"])
    step = timedelta(seconds=bucket_seconds)
    xs: list[datetime] = []
    at = first
    while at < end:
        xs.append(at)
        at += step
    out = [Series(x=xs, y=[counts.get((x - shift).timestamp(), 0) for x in xs]) for shift in shifts]
    if xs and xs[-1] + step > end:
        # The last bucket is partial: an earlier span counts only as far into it.
        for shift, series in zip(shifts, out, strict=True):
            if shift:
                series.y[-1] = events_between(
                    store, model, xs[-1] - shift, end - shift, version=version
                )
    return out


def events_between(
    store: EventStore, model: str, start: datetime, end: datetime, version: str | None = None
) -> int:
    """Predictions in ``[start, end)`` (all versions unless one is named)."""
    table = store.count_events(model, start, end, version=version)
    return sum(int(n) for n in table.column("events").to_pylist()) if table.num_rows else 0
