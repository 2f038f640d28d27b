"""The runner's batched reads give each window exactly what its own store queries give."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow.compute as pc
from tests.analysis.conftest import MONDAY, write_day

from keeneye.analysis.batching import WindowReader, earlier_counts
from keeneye.analysis.windows import Window, complete_windows
from keeneye.store import EventStore
from keeneye.store.records import LabelEvent, PredictionEvent


def _fill(store: EventStore) -> None:
    rng = np.random.default_rng(3)
    days = [write_day(store, "m", MONDAY + timedelta(days=day), 200, rng=rng) for day in range(3)]
    write_day(store, "m", MONDAY + timedelta(days=1), 50, rng=rng, version="2", prefix="v2-")
    # Wrong types, missing values and labels (one of a wrong type) spread over the days.
    at = MONDAY + timedelta(hours=30, minutes=5)
    store.write_predictions(
        "m",
        [
            PredictionEvent("bad-1", "1", at, {"age": "old", "plan": None}, 0.2),
            PredictionEvent("bad-2", "2", at + timedelta(hours=3), {"plan": [1]}, 0.9),
        ],
    )
    store.write_labels(
        "m",
        [
            LabelEvent(e.event_id, i % 2, MONDAY + timedelta(days=4, minutes=i))
            for i, e in enumerate(days[1][::3])
        ]
        + [LabelEvent(days[0][5].event_id, "x", MONDAY + timedelta(days=4))],
    )


def test_window_reader_slices_equal_window_reads(store: EventStore) -> None:
    _fill(store)
    end = MONDAY + timedelta(days=3)
    windows = [
        *complete_windows("hourly", MONDAY + timedelta(hours=20), end),
        *complete_windows("daily", MONDAY, end),
    ]
    reader = WindowReader(store, "m", windows, with_invalid=windows[::2])
    for window in sorted(windows, key=lambda w: (w.end, w.start)):
        got = reader.read(window)
        expected = store.read_window("m", window.start, window.end)
        assert got.events.equals(expected.events)
        assert got.features.equals(expected.features)
        for version in ("1", "2", "3"):
            assert reader.invalid(window, version) == store.invalid_value_counts(
                "m", window.start, window.end, version=version
            )
        reader.done(window)
    # A window the reader was not told about is read on its own.
    other = Window(end, end + timedelta(hours=1), "hourly")
    assert reader.read(other).events.num_rows == 0


def test_earlier_counts_equal_one_count_per_window(store: EventStore) -> None:
    _fill(store)
    windows = [
        *complete_windows("hourly", MONDAY, MONDAY + timedelta(days=3)),
        *complete_windows("daily", MONDAY - timedelta(days=2), MONDAY + timedelta(days=4)),
    ]
    counts = earlier_counts(store, "m", windows[::3] + windows[-5:])
    assert len(counts) == len(set(windows[::3] + windows[-5:]))
    for (name, start), count in counts.items():
        window = next(w for w in windows if w.name == name and w.start == start)
        table = store.count_events("m", window.start, window.end)
        assert count == int(pc.sum(table.column("events")).as_py() or 0)
    assert sum(counts.values()) > 0


def test_labelled_counts_match_the_window_rows(store: EventStore) -> None:
    _fill(store)
    windows = list(complete_windows("hourly", MONDAY, MONDAY + timedelta(days=3)))
    table = store.count_labelled("m", windows[0].start, windows[-1].end, bucket_seconds=3600)
    assert table.num_rows == len(windows)
    labelled_total = 0
    for row in table.to_pylist():
        data = store.read_window("m", row["bucket_start"], row["bucket_start"] + timedelta(hours=1))
        labelled = data.events.filter(pc.is_valid(data.events.column("label")))
        assert row["events"] == data.events.num_rows
        assert row["labels"] == labelled.num_rows
        newest = pc.max(labelled.column("label_timestamp")).as_py() if labelled.num_rows else None
        assert row["last_label_at"] == newest
        labelled_total += row["labels"]
    assert labelled_total == 67  # every third event of day 1; the wrong-typed label is null
