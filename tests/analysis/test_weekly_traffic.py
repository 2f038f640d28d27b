"""Done-when: a synthetic weekly pattern (weekday vs weekend volume) raises no traffic alert on
a normal weekend, and alerts on a 45 % drop against the same day a week earlier."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.store import EventStore

from .conftest import MONDAY, write_day

WEEKDAY, WEEKEND = 200, 100
DROPPED_WEDNESDAY = 16  # day offsets from a Monday
DROPPED_SATURDAY = 19


def volume(day: int) -> int:
    base = WEEKEND if day % 7 in (5, 6) else WEEKDAY
    return round(base * 0.55) if day in (DROPPED_WEDNESDAY, DROPPED_SATURDAY) else base


def test_weekly_pattern_alerts_only_on_real_drops(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(11)
    for day in range(21):
        write_day(store, "shop", MONDAY + timedelta(days=day), volume(day), rng=rng)
    clock.set(MONDAY + timedelta(days=21, hours=1))
    settings = Settings(analysis={"windows": ["daily"]})
    runner = AnalysisRunner(store, settings, clock, jobs=("stats",))
    report = runner.run_once()
    assert report.windows == 21  # every complete day, once

    traffic = [a for a in report.alerts if a.rule == "traffic"]
    assert sorted((a.window_start - MONDAY).days for a in traffic) == [
        DROPPED_WEDNESDAY,
        DROPPED_SATURDAY,
    ]
    wednesday, saturday = sorted(traffic, key=lambda a: a.window_start)
    assert wednesday.value is not None and abs(wednesday.value - (-0.45)) < 0.01
    assert wednesday.details["compared_to"] == ["day", "week"]
    # Saturday is judged against last Saturday only (Friday is another kind of day).
    assert saturday.details["compared_to"] == ["week"]
    assert saturday.value is not None and abs(saturday.value - (-0.45)) < 0.01

    # Normal weekends of weeks 1 and 2 (halved volume against Friday) raised nothing, and the
    # stored change ratios show why a naive day-over-day rule would have fired.
    results = {
        (r.window_start - MONDAY).days: report_of(r).traffic
        for r in store.load_results("shop", kind="traffic", version="*")
    }
    saturday_traffic, first = results[12], results[0]
    assert saturday_traffic is not None and first is not None
    assert saturday_traffic.compared["day"].change_ratio == -0.5  # a normal Saturday
    assert saturday_traffic.compared["week"].change_ratio == 0.0
    assert first.compared["day"].events is None  # before the model's history

    # Nothing is computed twice; the active set holds the latest window only (day 20, normal).
    again = runner.run_once()
    assert again.windows == 0
    assert [a for a in again.active if a.rule == "traffic"] == []
