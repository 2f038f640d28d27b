from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keeneye.analysis.clock import ManualClock, SystemClock
from keeneye.analysis.windows import (
    Fingerprint,
    Window,
    complete_windows,
    needs_computing,
    window_at,
)

UTC = timezone.utc


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(minutes=5))
    clock.set(datetime(2026, 1, 2, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="non-negative"):
        clock.advance(hours=-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))


def test_system_clock_is_utc_and_close_to_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert abs((now - before).total_seconds()) < 60


def test_window_alignment_is_utc_epoch_based() -> None:
    t = datetime(2026, 3, 2, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5)))
    w = window_at("daily", t)
    assert w.start == datetime(2026, 3, 3, tzinfo=UTC)  # 23:59 at UTC-5 is 04:59 UTC next day
    assert w.end - w.start == timedelta(days=1)
    assert window_at("hourly", w.start) == Window(w.start, w.start + timedelta(hours=1), "hourly")
    with pytest.raises(
        ValueError,
        match="unknown window 'fortnightly'; choose one of hourly, daily, weekly, monthly",
    ):
        window_at("fortnightly", t)


def test_complete_windows_respects_grace_and_partial_start() -> None:
    since = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
    now = datetime(2026, 1, 1, 3, 0, 30, tzinfo=UTC)
    no_grace = list(complete_windows("hourly", since, now))
    assert [w.start.hour for w in no_grace] == [0, 1, 2]
    graced = list(complete_windows("hourly", since, now, grace=timedelta(minutes=1)))
    assert [w.start.hour for w in graced] == [0, 1]
    assert list(complete_windows("daily", since, now)) == []


def test_weekend_and_shift() -> None:
    saturday = window_at("daily", datetime(2026, 1, 3, 12, tzinfo=UTC))
    assert saturday.is_weekend()
    assert not saturday.shifted(days=-1).is_weekend()
    assert saturday.shifted(days=-7).start.weekday() == 5


def test_fingerprint_change_reopens_a_window() -> None:
    first = Fingerprint(100, 0, None)
    assert needs_computing(first, None)
    assert not needs_computing(first, Fingerprint.from_dict(first.to_dict()))
    late_event = Fingerprint(101, 0, None)
    assert needs_computing(late_event, first)
    replaced_label = Fingerprint(100, 5, "2026-01-09T00:00:00+00:00")
    assert needs_computing(replaced_label, Fingerprint(100, 5, "2026-01-08T00:00:00+00:00"))


@settings(max_examples=100, derandomize=True)
@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    name=st.sampled_from(["hourly", "daily"]),
    hours=st.integers(min_value=0, max_value=200),
)
def test_windows_contain_their_time_and_tile_without_gaps(
    moment: datetime, name: str, hours: int
) -> None:
    window = window_at(name, moment)
    assert window.start <= moment < window.end
    now = moment + timedelta(hours=hours)
    tiles = list(complete_windows(name, moment, now))
    for a, b in pairwise(tiles):
        assert a.end == b.start
    assert all(w.end <= now for w in tiles)
    if tiles:  # the next window after the last complete one is not complete yet
        assert tiles[-1].shifted(seconds=window.length.total_seconds()).end > now
