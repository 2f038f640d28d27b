"""The time range in the URL: presets, custom ranges, windows, and the errors that name the fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from keeneye.server.ui.timerange import QueryError, parse_range

NOW = datetime(2026, 11, 23, 0, 1, tzinfo=UTC)
BOTH = ("hourly", "daily")


@pytest.mark.parametrize(("preset", "days"), [("24h", 1), ("7d", 7), ("21d", 21), ("30d", 30)])
def test_presets_end_now(preset: str, days: int) -> None:
    r = parse_range({"range": preset}, NOW, BOTH)
    assert (r.start, r.end, r.preset) == (NOW - timedelta(days=days), NOW, preset)


def test_default_is_the_last_week_in_daily_windows() -> None:
    r = parse_range({}, NOW, BOTH)
    assert (r.length, r.window, r.version) == (timedelta(days=7), "daily", None)
    assert parse_range({}, NOW, ("hourly",)).window == "hourly"


def test_a_custom_range_round_trips_through_the_url() -> None:
    start, end = "2026-11-10T00:00:00+00:00", "2026-11-13T06:00:00+01:00"
    r = parse_range({"start": start, "end": end, "version": "2"}, NOW, BOTH)
    assert r.preset is None and r.end == datetime(2026, 11, 13, 5, tzinfo=UTC)
    again = parse_range({k: v[0] for k, v in parse_qs(r.query()[1:]).items()}, NOW, BOTH)
    assert again == r
    # Choosing a preset drops the custom bounds; the version stays.
    assert r.params(range="7d") == {"range": "7d", "window": "daily", "version": "2"}


def test_times_without_offset_are_utc_as_the_form_says() -> None:
    r = parse_range({"start": "2026-11-10T00:00", "end": "2026-11-11"}, NOW, BOTH)
    assert r.start == datetime(2026, 11, 10, tzinfo=UTC) and r.window == "hourly"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"range": "1y"}, r"range: '1y' is unknown; use one of 24h, 7d, 21d, 30d"),
        ({"start": "2026-11-10"}, r"end: a custom range needs both start= and end="),
        ({"end": "2026-11-10"}, r"start: a custom range needs both"),
        ({"start": "soon", "end": "2026-11-10"}, r"start: 'soon' is not a time; write it as ISO"),
        ({"start": "2026-11-10", "end": "2026-11-10"}, r"end: .* is not after start"),
        ({"start": "2020-01-01", "end": "2026-11-10"}, r"the range spans 2505 days; pick at most"),
        ({"window": "weekly"}, r"window: 'weekly' is not computed by this server"),
    ],
)
def test_bad_parameters_are_named(query: dict[str, str], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_range(query, NOW, BOTH)
