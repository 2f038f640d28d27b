"""Conformance: prediction events — values as sent, duplicates, invalid values, schema evolution."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from tests.store.conftest import T0, FakeClock

from keeneye.errors import InputError, NotFoundError
from keeneye.store import EventStore, LabelEvent, PredictionEvent


def ev(
    i: int,
    inputs: dict,
    prediction: object = 0.5,
    *,
    version: str = "1",
    minutes: float | None = None,
    **kw: object,
) -> PredictionEvent:
    at = T0 + timedelta(minutes=i if minutes is None else minutes)
    return PredictionEvent(f"e{i}", version, at, inputs, prediction, **kw)  # type: ignore[arg-type]


def window(store: EventStore, hours: int = 24):
    return store.read_window("m", T0, T0 + timedelta(hours=hours))


def test_values_round_trip_with_nan_inf_and_missing(store: EventStore) -> None:
    report = store.write_predictions(
        "m",
        [
            ev(
                0,
                {"x": 1.5, "c": "a", "b": True},
                0.9,
                probabilities={"no": 0.1, "yes": 0.9},
                latency_seconds=0.002,
            ),
            ev(1, {"x": float("nan"), "c": "b", "b": False}, float("nan")),
            ev(2, {"x": float("inf"), "c": None}, float("-inf")),
            ev(3, {"x": -math.inf, "b": True}, None),
            ev(4, {"x": None, "c": "a"}, 1),
        ],
    )
    assert report.stored == 5 and report.duplicates == 0 and report.invalid_values == {}
    data = window(store)
    x = data.features.column("x").to_pylist()
    assert x[0] == 1.5 and math.isnan(x[1]) and x[2] == math.inf and x[3] == -math.inf
    assert x[4] is None  # null (missing), distinguishable from NaN
    assert data.features.column("x").null_count == 1
    assert data.features.column("c").to_pylist() == ["a", "b", None, None, "a"]
    assert data.features.column("b").to_pylist() == [True, False, None, True, None]
    assert data.features.schema.field("x").type == pa.float64()
    assert data.features.schema.field("c").type == pa.string()
    assert data.features.schema.field("b").type == pa.bool_()
    events = data.events
    assert events.column("event_id").to_pylist() == ["e0", "e1", "e2", "e3", "e4"]
    pred = events.column("prediction").to_pylist()
    assert pred[0] == 0.9 and math.isnan(pred[1]) and pred[2] == -math.inf and pred[3] is None
    assert pred[4] == 1.0
    assert events.column("latency_seconds").to_pylist()[0] == 0.002
    assert events.column("probabilities").to_pylist()[0] == '{"no":0.1,"yes":0.9}'
    assert events.column("timestamp").to_pylist()[0] == T0
    assert events.column("label").null_count == 5
    assert store.feature_types("m") == {"x": "numeric", "c": "categorical", "b": "boolean"}
    # Missing counts: NULLs for features the version sends (c missing twice, b once, x once).
    counts = store.invalid_value_counts("m", T0, T0 + timedelta(hours=1))
    # NaN and ±inf are values (counted by the statistics), not storage problems.
    assert counts == {"x": {"missing": 1}, "c": {"missing": 2}, "b": {"missing": 2}}


def test_wrong_types_are_null_plus_invalid_marker_never_coerced(store: EventStore) -> None:
    report = store.write_predictions(
        "m",
        [
            ev(0, {"age": 31, "plan": "pro"}),
            ev(1, {"age": "cat", "plan": 3}),
            ev(2, {"age": True, "plan": "basic"}),
            ev(3, {"age": "31", "plan": [1, 2]}),
            ev(4, {"age": 40, "plan": "pro"}, "yes"),
        ],
    )
    assert report.stored == 5
    assert report.invalid_values == {"age": 3, "plan": 2, "__prediction__": 1}
    data = window(store)
    assert data.features.column("age").to_pylist() == [31.0, None, None, None, 40.0]
    assert data.features.column("plan").to_pylist() == ["pro", None, "basic", None, "pro"]
    assert data.events.column("prediction").to_pylist() == [0.5, 0.5, 0.5, 0.5, None]
    counts = store.invalid_value_counts("m", T0, T0 + timedelta(hours=1))
    assert counts["age"] == {"type": 3}
    assert counts["plan"] == {"type": 1, "unsupported": 1}
    assert counts["__prediction__"] == {"type": 1}
    # Windows and versions filter the counts.
    assert store.invalid_value_counts("m", T0, T0 + timedelta(minutes=2))["age"] == {"type": 1}
    assert store.invalid_value_counts("m", T0, T0 + timedelta(hours=1), version="9") == {}


def test_invalid_counts_by_window_equal_one_call_per_window_and_version(
    store: EventStore,
) -> None:
    # Two versions, wrong types, unsupported values, missing values, a label marker (no
    # version) and an unknown feature, spread over three hours.
    store.save_baseline("m", "2", pa.table({"age": [1.0], "plan": ["a"]}))
    store.write_predictions(
        "m",
        [
            ev(0, {"age": 31, "plan": "pro"}),
            ev(1, {"age": "cat", "plan": None}, minutes=30),
            ev(2, {"plan": [1]}, "yes", minutes=70),
            ev(3, {"age": 5, "plan": "x", "extra": 1}, version="2", minutes=75),
            ev(4, {"age": None, "plan": 3}, version="2", minutes=130),
            ev(5, {"age": True}, version="2", minutes=170),
        ],
    )
    store.write_labels("m", [LabelEvent("e1", 1, T0 + timedelta(minutes=40))])
    store.write_labels("m", [LabelEvent("e2", [1], T0 + timedelta(minutes=50))])
    hour = timedelta(hours=1)
    windows = [(T0 + i * hour, T0 + (i + 1) * hour) for i in range(4)] + [
        (T0, T0 + 3 * hour),
        (T0 + timedelta(minutes=20), T0 + timedelta(minutes=140)),
    ]
    got = store.invalid_value_counts_by_window("m", windows)
    assert len(got) == len(windows)
    for (start, end), counts in zip(windows, got, strict=True):
        for version in ("1", "2", "9"):
            expected = store.invalid_value_counts("m", start, end, version=version)
            assert counts.get(version, {}) == expected, (start, end, version)
        assert set(counts) <= {"1", "2"}
    assert got[4]["1"]["age"] == {"type": 1, "missing": 1}
    assert got[4]["2"]["extra"] == {"unknown_feature": 1, "missing": 2}
    assert got[3] == {}
    assert store.invalid_value_counts_by_window("m", []) == []
    assert store.invalid_value_counts_by_window("nobody", windows[:1]) == [{}]


def test_duplicates_are_ignored_and_counted(store: EventStore) -> None:
    first = store.write_predictions("m", [ev(0, {"x": 1}), ev(1, {"x": 2})])
    again = store.write_predictions("m", [ev(1, {"x": "bad"}), ev(2, {"x": 3}), ev(2, {"x": 4})])
    assert (first.stored, first.duplicates) == (2, 0)
    assert (again.stored, again.duplicates) == (1, 2)
    # The duplicate's bad value is not recorded: nothing of a duplicate is stored.
    assert again.invalid_values == {}
    assert window(store).features.column("x").to_pylist() == [1.0, 2.0, 3.0]


def test_schema_evolves_as_features_appear(store: EventStore) -> None:
    store.write_predictions("m", [ev(0, {"a": 1})])
    store.write_predictions("m", [ev(1, {"a": 2, "b": "x"})])
    store.write_predictions("m", [ev(2, {"b": "y", "c": 0.5})])
    data = window(store)
    assert data.features.column_names == ["a", "b", "c"]
    assert data.features.column("b").to_pylist() == [None, "x", "y"]
    subset = store.read_window("m", T0, T0 + timedelta(hours=1), features=["c", "never"])
    assert subset.features.column_names == ["c", "never"]
    assert subset.features.column("never").null_count == 3
    # A feature name that needs quoting in SQL is just a name.
    store.write_predictions("m", [ev(3, {'we"ird name; DROP': 1})])
    assert 'we"ird name; DROP' in store.feature_types("m")


def test_type_change_recorded_after_a_consistent_run(store: EventStore, clock: FakeClock) -> None:
    store.write_predictions("m", [ev(0, {"zip": 75001, "s": 1.0})])
    clock.advance(hours=1)
    # Four strings: not yet a type change (the fixture sets type_change_after=5).
    store.write_predictions("m", [ev(i, {"zip": f"7500{i}", "s": 1.0}) for i in range(1, 5)])
    assert store.schema_changes("m").num_rows == 0
    store.write_predictions("m", [ev(i, {"zip": f"7500{i}", "s": 1.0}) for i in range(5, 9)])
    changes = store.schema_changes("m").to_pylist()
    assert changes == [
        {
            "feature": "zip",
            "old_type": "numeric",
            "new_type": "categorical",
            "changed_at": clock.now,
        }
    ]
    # The column keeps its first type; the strings stay counted invalid values.
    assert store.feature_types("m")["zip"] == "numeric"
    assert window(store).features.column("zip").null_count == 8
    # Recorded once per run, not again for every later value.
    store.write_predictions("m", [ev(i, {"zip": "x"}) for i in range(9, 30)])
    assert store.schema_changes("m").num_rows == 1


def test_unknown_features_counted_when_the_version_has_a_schema(store: EventStore) -> None:
    store.save_baseline("m", "2", pa.table({"age": [1.0, 2.0], "plan": ["a", "b"]}))
    store.write_predictions(
        "m",
        [
            ev(0, {"age": 1, "plan": "a", "extra": 5}, version="2"),
            ev(1, {"age": 1, "extra": 6}, version="1"),  # version 1 has no schema
        ],
    )
    counts = store.invalid_value_counts("m", T0, T0 + timedelta(hours=1))
    assert counts["extra"] == {"unknown_feature": 1}
    assert window(store).features.column("extra").to_pylist() == [5.0, 6.0]  # stored anyway


def test_windows_are_half_open_and_filter_versions(store: EventStore) -> None:
    store.write_predictions(
        "m",
        [ev(i, {"x": i}, version="1" if i < 90 else "2", minutes=i) for i in range(120)],
    )
    one_hour = store.read_window("m", T0, T0 + timedelta(hours=1))
    assert one_hour.events.num_rows == 60
    assert one_hour.features.column("x").to_pylist() == [float(i) for i in range(60)]
    v2 = store.read_window("m", T0, T0 + timedelta(hours=2), version="2")
    assert v2.events.num_rows == 30 and set(v2.events.column("version").to_pylist()) == {"2"}
    empty = store.read_window("m", T0 - timedelta(hours=1), T0)
    assert empty.events.num_rows == 0 and empty.features.column_names == ["x"]
    with pytest.raises(NotFoundError, match="'nope'"):
        store.read_window("nope", T0, T0 + timedelta(hours=1))
    with pytest.raises(InputError, match="no time zone"):
        store.read_window("m", datetime(2026, 11, 2), T0)


def test_a_window_is_ordered_by_time_then_event_id_whatever_the_write_order(
    store: EventStore,
) -> None:
    # written late and out of order, with equal timestamps; labels on some of them
    minutes = {"e5": 3, "e1": 1, "e4": 2, "e3": 2, "e0": 0, "e2": 2}
    for batch in (["e5", "e1"], ["e4", "e3"], ["e0", "e2"]):
        store.write_predictions(
            "m",
            [
                PredictionEvent(i, "1", T0 + timedelta(minutes=minutes[i]), {"x": int(i[1])}, 0)
                for i in batch
            ],
        )
    store.write_labels("m", [LabelEvent("e3", 1, T0), LabelEvent("e5", 0, T0)])
    data = window(store)
    ids = ["e0", "e1", "e2", "e3", "e4", "e5"]
    assert data.events.column("event_id").to_pylist() == ids
    assert data.features.column("x").to_pylist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert data.events.column("label").to_pylist() == [None, None, None, 1, None, 0]
    assert data.events.column("label_timestamp").null_count == 4
    later = store.read_window("m", T0 + timedelta(minutes=2), T0 + timedelta(hours=1))
    assert later.events.column("event_id").to_pylist() == ids[2:]
    assert later.events.column("label").to_pylist() == [None, 1, None, 0]


def test_timestamps_in_other_offsets_are_utc(store: EventStore) -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    store.write_predictions(
        "m", [PredictionEvent("a", "1", datetime(2026, 11, 2, 1, 30, tzinfo=paris), {}, 1)]
    )
    assert window(store).events.column("timestamp").to_pylist() == [
        datetime(2026, 11, 2, 0, 30, tzinfo=UTC)
    ]


def test_count_events_per_version_and_per_bucket(store: EventStore) -> None:
    store.write_predictions(
        "m", [ev(i, {}, version="1" if i % 3 else "2", minutes=i * 10) for i in range(12)]
    )  # 12 events over two hours; none in the third hour
    per_version = store.count_events("m", T0, T0 + timedelta(hours=3)).to_pylist()
    assert per_version == [{"version": "1", "events": 8}, {"version": "2", "events": 4}]
    assert store.count_events("m", T0, T0 + timedelta(hours=3), version="7").to_pylist() == [
        {"version": "7", "events": 0}
    ]
    buckets = store.count_events(
        "m", T0, T0 + timedelta(hours=3), bucket_seconds=3600, version="1"
    ).to_pylist()
    assert [(b["bucket_start"], b["events"]) for b in buckets] == [
        (T0, 4),
        (T0 + timedelta(hours=1), 4),
        (T0 + timedelta(hours=2), 0),
    ]
    all_versions = store.count_events("m", T0, T0 + timedelta(hours=3), bucket_seconds=3600)
    assert sum(all_versions.column("events").to_pylist()) == 12
    assert all_versions.num_rows == 5  # two versions in each of two buckets, one empty bucket
    assert store.count_events("unknown", T0, T0 + timedelta(hours=1)).num_rows == 0


def test_reserved_and_bad_inputs_are_refused(store: EventStore) -> None:
    with pytest.raises(InputError, match="reserved"):
        store.write_predictions("m", [ev(0, {"__prediction__": 1})])
    with pytest.raises(InputError, match="no time zone"):
        store.write_predictions("m", [PredictionEvent("a", "1", datetime(2026, 1, 1), {}, 1)])
    with pytest.raises(InputError, match="latency_seconds"):
        store.write_predictions("m", [ev(0, {}, latency_seconds="slow")])  # type: ignore[arg-type]
    assert store.write_predictions("m", []).stored == 0


def test_a_known_column_types_each_value_as_the_first_batch_did(store: EventStore) -> None:
    """Once a feature's type is known, values of that type go straight into the column; the
    others (booleans among numbers, bytes among strings, ints beyond a double) still get
    the per-value rules."""
    store.write_predictions("m", [ev(0, {"x": 1.5, "c": "a", "b": True, "n": 2})])
    report = store.write_predictions(
        "m",
        [
            ev(1, {"x": 2, "c": "b", "b": False, "n": None}),
            ev(2, {"x": True, "c": b"raw", "b": 1, "n": None}),
            ev(3, {"x": 2**53 + 1, "c": None, "b": None, "n": None}),
            ev(4, {"x": 2**70, "c": "d", "b": True, "n": None}),
        ],
    )
    assert report.stored == 4
    assert report.invalid_values == {"x": 1, "c": 1, "b": 1}
    data = window(store)
    assert data.features.column("x").to_pylist() == [1.5, 2.0, None, float(2**53 + 1), 2.0**70]
    assert data.features.column("c").to_pylist() == ["a", "b", None, None, "d"]
    assert data.features.column("b").to_pylist() == [True, False, None, None, True]
    assert data.features.column("n").to_pylist() == [2.0, None, None, None, None]
