"""Conformance: retention deletes old raw events in batches and keeps results and alerts."""

from __future__ import annotations

from datetime import timedelta

from tests.store.conftest import T0

from keeneye.store import EventStore, LabelEvent, PredictionEvent, StoredResult


def test_old_events_go_in_batches_results_and_alerts_stay(store: EventStore) -> None:
    events = [
        PredictionEvent(f"e{i}", "1", T0 + timedelta(hours=i), {"x": float(i), "c": 1}, 0.5)
        for i in range(10)
    ]
    store.write_predictions("m", events[:5])
    store.write_predictions("other", events[5:])
    store.write_labels("m", [LabelEvent(f"e{i}", 1, T0 + timedelta(days=1)) for i in range(5)])
    result = StoredResult("m", "1", "summary", T0, T0 + timedelta(hours=1), T0, {"n": 1})
    store.save_results([result])
    store.save_alert({"model": "m", "rule": "r", "status": "firing", "at": T0.isoformat()})

    assert store.delete_events_before(T0 + timedelta(hours=7), batch_size=2) == 7

    day = (T0, T0 + timedelta(days=2))
    left = store.read_window("m", *day).events.column("event_id").to_pylist()
    assert left == []
    assert store.read_window("other", *day).events.column("event_id").to_pylist() == [
        "e7",
        "e8",
        "e9",
    ]
    assert store.model_summary("m").labels == 0
    assert store.invalid_value_counts("m", *day) == {}
    assert store.load_results("m") == [result]
    assert len(store.list_alerts("m")) == 1
    assert store.delete_events_before(T0 + timedelta(hours=7)) == 0
