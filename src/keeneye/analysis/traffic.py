"""Traffic: the number of predictions in a window against the same window a day and a week
earlier, and the seasonal decision of whether the change is news.

A change ratio is ``current / reference − 1`` (−0.45 is a 45 % drop). Weekly seasonality is
handled by *what* is compared: the week-ago window is the same weekday and hour, so it is always
comparable; the day-ago window is comparable only when it is the same kind of day (weekday vs
weekend). When both are comparable both must agree (a one-off yesterday does not alert); when
only the week-ago one is, it decides alone (so a Saturday is never judged against a Friday).

A change must also be beyond Poisson noise: ``|now − then| / sqrt(now + then)`` of at least
``min_z`` standard deviations for a daily window. Shorter windows are more tests per day (24
hourly windows), so their cut is raised to keep the same false-alarm rate per day
(:func:`min_z_for`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from statistics import NormalDist

from keeneye.analysis.windows import WINDOW_SIZES, Window
from keeneye.profile.report import TrafficComparison, TrafficSection

#: The comparisons made for every window, as (name, days back).
COMPARISONS: tuple[tuple[str, int], ...] = (("day", 1), ("week", 7))


def comparisons_for(window: Window) -> tuple[tuple[str, int], ...]:
    """The comparisons that make sense for ``window``: those reaching at least one window
    back (a weekly window is compared with the week before, a monthly one with none: months
    differ in length and the earlier window would overlap it).

    >>> from keeneye.analysis.windows import window_at
    >>> from datetime import datetime, timezone
    >>> comparisons_for(window_at("weekly", datetime(2026, 3, 4, tzinfo=timezone.utc)))
    (('week', 7),)
    """
    if window.name in ("monthly", "count"):  # count windows hold the same count every time
        return ()
    return tuple((n, d) for n, d in COMPARISONS if timedelta(days=d) >= window.length)


def change_ratio(current: int, reference: int | None) -> float | None:
    """``current / reference − 1``; ``None`` when there is no reference or it is empty.

    >>> change_ratio(55, 100)
    -0.45
    >>> change_ratio(10, 0) is None
    True
    """
    if reference is None or reference <= 0:
        return None
    return current / reference - 1.0


def traffic_section(
    window: Window,
    events: int,
    by_version: Mapping[str, int],
    references: Mapping[str, int | None],
    weekend_days: frozenset[int],
) -> TrafficSection:
    """The traffic of ``window``; ``references`` maps each comparison name to the event count of
    that earlier window, or ``None`` when it lies before the model's history."""
    compared: dict[str, TrafficComparison] = {}
    for name, days in comparisons_for(window):
        earlier = window.shifted(days=-days)
        reference = references.get(name)
        compared[name] = TrafficComparison(
            window_start=earlier.start.isoformat(),
            events=reference,
            change_ratio=change_ratio(events, reference),
            same_day_kind=earlier.is_weekend(weekend_days) == window.is_weekend(weekend_days),
        )
    return TrafficSection(
        events=events,
        by_version=dict(by_version),
        weekend=window.is_weekend(weekend_days),
        compared=compared,
    )


def min_z_for(window: str | None, min_z: float) -> float:
    """The Poisson-sigma cut for a window size, given ``min_z`` for a daily window.

    A day has ``1 day / length`` windows of a size, each one a test: the two-sided tail
    probability of ``min_z`` is divided by that number (Bonferroni over the windows of a day),
    so hourly windows raise no more false alarms per day than the daily window. 3 sigmas for a
    day (p = 0.0027) are 3.86 for an hour (p = 0.0027 / 24). Unknown or missing sizes keep
    ``min_z``.

    >>> min_z_for("daily", 3.0)
    3.0
    >>> round(min_z_for("hourly", 3.0), 2)
    3.86
    >>> min_z_for("hourly", 0.0)
    0.0
    """
    length = WINDOW_SIZES.get(window or "")
    if min_z <= 0 or length is None or length >= timedelta(days=1):
        return min_z
    per_day = timedelta(days=1) / length
    normal = NormalDist()
    tail = 2 * (1 - normal.cdf(min_z)) / per_day
    return normal.inv_cdf(1 - tail / 2)


@dataclass(frozen=True)
class TrafficVerdict:
    """The seasonal decision over one traffic result."""

    alert: bool
    change_ratio: float | None
    compared_to: tuple[str, ...]
    reason: str


def traffic_verdict(
    traffic: TrafficSection,
    threshold: float,
    min_events: int,
    *,
    min_z: float = 0.0,
    window: str | None = None,
) -> TrafficVerdict:
    """Whether the traffic of a window changed by more than ``threshold`` against comparable
    earlier windows holding at least ``min_events`` events.

    With ``min_z`` the change must also be that many Poisson standard deviations,
    ``|now - then| / sqrt(now + then)``: 177 events against 126 is +40 % but only 2.9 sigma.
    ``min_z`` is the daily cut; the ``window`` size scales it (:func:`min_z_for`).

    >>> from keeneye.profile.report import TrafficComparison as C, TrafficSection as T
    >>> week = C(events=100, change_ratio=-0.45, same_day_kind=True)
    >>> fri = C(events=200, change_ratio=-0.725, same_day_kind=False)
    >>> traffic_verdict(T(compared={"day": fri, "week": week}), 0.4, 20).alert
    True
    >>> normal_saturday = C(events=110, change_ratio=0.0, same_day_kind=True)
    >>> traffic_verdict(T(compared={"day": fri, "week": normal_saturday}), 0.4, 20).alert
    False
    """
    min_z = min_z_for(window, min_z)

    def usable(name: str) -> TrafficComparison | None:
        entry = traffic.compared.get(name)
        if entry is None or entry.change_ratio is None:
            return None
        if entry.events is None or entry.events < min_events:
            return None
        return entry

    def significant(entry: TrafficComparison) -> bool:
        change, then = entry.change_ratio, entry.events
        if change is None or then is None or abs(change) <= threshold:
            return False
        if min_z <= 0:
            return True
        now = traffic.events
        return abs(now - then) >= min_z * math.sqrt(max(now + then, 1))

    week = usable("week")
    day = usable("day")
    if day is not None and not day.same_day_kind:
        day = None  # a weekend judged against a weekday (or the reverse) says nothing
    if week is not None and day is not None:
        changed = significant(week) and significant(day)
        return TrafficVerdict(
            changed, week.change_ratio, ("day", "week"), "vs a day and a week ago"
        )
    if week is not None:
        return TrafficVerdict(significant(week), week.change_ratio, ("week",), "vs a week ago")
    if day is not None:
        return TrafficVerdict(significant(day), day.change_ratio, ("day",), "vs a day ago")
    return TrafficVerdict(False, None, (), "no comparable earlier window")
