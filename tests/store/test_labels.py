"""Conformance: labels joined at any delay, before their prediction, replaced and counted."""

from __future__ import annotations

from datetime import timedelta

from tests.store.conftest import T0

from keeneye.store import EventStore, LabelEvent, PredictionEvent


def pred(i: int, prediction: object = 1) -> PredictionEvent:
    return PredictionEvent(f"e{i}", "1", T0 + timedelta(minutes=i), {"x": i}, prediction)


def lab(i: int, label: object, days: float = 3) -> LabelEvent:
    return LabelEvent(f"e{i}", label, T0 + timedelta(minutes=i, days=days))


def test_labels_join_at_any_delay_and_before_their_prediction(store: EventStore) -> None:
    store.write_predictions("m", [pred(0), pred(1), pred(2)])
    early = store.write_labels("m", [lab(0, 1), lab(5, 0, days=0.5)])  # e5 not predicted yet
    assert (early.stored, early.replaced, early.pending) == (2, 0, 1)
    store.write_predictions("m", [pred(5)])
    data = store.read_window("m", T0, T0 + timedelta(hours=1))
    assert data.events.column("event_id").to_pylist() == ["e0", "e1", "e2", "e5"]
    assert data.events.column("label").to_pylist() == [1.0, None, None, 0.0]
    stamps = data.events.column("label_timestamp").to_pylist()
    assert stamps[0] == T0 + timedelta(days=3) and stamps[1] is None
    summary = store.model_summary("m")
    assert (summary.events, summary.labels) == (4, 2)
    assert summary.label_coverage == 0.5
    assert summary.median_label_delay_seconds == (3 * 86400 + 0.5 * 86400) / 2


def test_a_repeated_label_replaces_the_old_one_and_is_counted(store: EventStore) -> None:
    store.write_predictions("m", [pred(0), pred(1)])
    store.write_labels("m", [lab(0, 0)])
    again = store.write_labels("m", [lab(0, 1, days=4), lab(1, 1), lab(1, 0)])
    assert (again.stored, again.replaced, again.pending) == (2, 2, 0)
    data = store.read_window("m", T0, T0 + timedelta(hours=1))
    assert data.events.column("label").to_pylist() == [1.0, 0.0]
    assert data.events.column("label_timestamp").to_pylist()[0] == T0 + timedelta(days=4)


def test_string_labels_and_wrong_typed_labels(store: EventStore) -> None:
    store.write_predictions("m", [pred(0, "yes"), pred(1, "no"), pred(2, "no")])
    report = store.write_labels("m", [lab(0, "yes"), lab(1, 0)])
    assert report.invalid_values == {"__label__": 1}
    data = store.read_window("m", T0, T0 + timedelta(hours=1))
    assert data.events.column("prediction").to_pylist() == ["yes", "no", "no"]
    assert data.events.column("label").to_pylist() == ["yes", None, None]
    # Replacing the bad label with a good one clears its invalid marker.
    store.write_labels("m", [lab(1, "no")])
    counts = store.invalid_value_counts("m", T0, T0 + timedelta(days=10))
    assert "__label__" not in counts
    assert store.read_window("m", T0, T0 + timedelta(hours=1)).events.column(
        "label"
    ).to_pylist() == ["yes", "no", None]


def test_labelled_counts_per_bucket_join_labels_of_the_label_type(store: EventStore) -> None:
    store.write_predictions("m", [pred(i) for i in range(6)])
    store.write_labels("m", [lab(0, 1), lab(2, float("nan"), days=1), lab(7, 0)])  # e7 pending
    store.write_labels("m", [lab(4, "yes")])  # not the label's type: stored, not counted
    table = store.count_labelled("m", T0, T0 + timedelta(minutes=9), bucket_seconds=180)
    assert table.to_pylist() == [
        {"bucket_start": T0, "events": 3, "labels": 2, "last_label_at": T0 + timedelta(days=3)},
        {
            "bucket_start": T0 + timedelta(minutes=3),
            "events": 3,
            "labels": 0,
            "last_label_at": None,
        },
    ]
