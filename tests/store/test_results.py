"""Conformance: baselines, analysis results (upsert), alert history."""

from __future__ import annotations

import math
from datetime import timedelta

import pyarrow as pa
from tests.store.conftest import T0

from keeneye.store import EventStore, StoredResult


def test_baselines_round_trip_and_replace(store: EventStore) -> None:
    assert store.load_baseline("m", "1") is None
    table = pa.table(
        {"age": [1.0, float("nan"), None], "plan": ["a", None, "b"], "n": pa.array([1, 2, 3])}
    )
    store.save_baseline("m", "1", table)
    loaded = store.load_baseline("m", "1")
    assert loaded is not None
    assert loaded.column_names == ["age", "plan", "n"]
    age = loaded.column("age").to_pylist()
    assert age[0] == 1.0 and math.isnan(age[1]) and age[2] is None
    assert loaded.column("plan").to_pylist() == ["a", None, "b"]
    assert loaded.column("n").to_pylist() == [1, 2, 3]
    store.save_baseline("m", "1", pa.table({"z": [1.0]}))
    replaced = store.load_baseline("m", "1")
    assert replaced is not None and replaced.column_names == ["z"]
    assert store.load_baseline("m", "2") is None


def result(kind: str, hour: int, payload: dict, version: str = "1") -> StoredResult:
    start = T0 + timedelta(hours=hour)
    return StoredResult("m", version, kind, start, start + timedelta(hours=1), T0, payload)


def test_results_upsert_by_model_version_kind_window(store: EventStore) -> None:
    store.save_results([result("stats", 0, {"n": 1}), result("drift", 0, {"p": 0.5})])
    store.save_results(
        [
            result("stats", 0, {"n": 2, "nan": float("nan")}),
            result("stats", 1, {"n": 3}),
            result("stats", 1, {"n": 4}),
        ]
    )
    stats = store.load_results("m", kind="stats")
    assert [(r.window_start, r.payload["n"]) for r in stats] == [
        (T0, 2),
        (T0 + timedelta(hours=1), 4),
    ]
    assert math.isnan(stats[0].payload["nan"])
    assert len(store.load_results("m")) == 3
    assert len(store.load_results("m", start=T0 + timedelta(hours=1))) == 1
    assert len(store.load_results("m", end=T0 + timedelta(hours=1))) == 2
    assert store.load_results("m", version="2") == []
    assert store.load_results("other") == []


def test_results_of_exact_windows(store: EventStore) -> None:
    day = (T0, T0 + timedelta(days=1))
    hour = (T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    stored = [
        StoredResult("m", "1", kind, start, end, T0, {"kind": kind})
        for kind in ("a", "b")
        for start, end in (day, hour, (T0 + timedelta(hours=5), T0 + timedelta(hours=6)))
    ]
    store.save_results(stored)
    got = store.load_results("m", windows=[day, hour])
    assert sorted((r.kind, r.window_start, r.window_end) for r in got) == sorted(
        (kind, *window) for kind in ("a", "b") for window in (day, hour)
    )
    # The bounds of a daily window alone would also give the hours inside it.
    assert len(store.load_results("m", start=day[0], end=day[1])) == 6
    assert [r.kind for r in store.load_results("m", kind="b", windows=[day])] == ["b"]
    assert store.load_results("m", windows=[]) == []
    assert store.load_results("m", windows=[(T0, T0 + timedelta(hours=2))]) == []


def test_alert_history_newest_first(store: EventStore) -> None:
    store.save_alert({"model": "m", "rule": "traffic", "status": "firing", "at": T0})
    store.save_alert(
        {
            "model": "m",
            "rule": "traffic",
            "status": "resolved",
            "at": T0 + timedelta(hours=1),
            "value": 0.4,
        }
    )
    store.save_alert(
        {
            "model": "n",
            "rule": "drift",
            "status": "firing",
            "at": (T0 + timedelta(hours=2)).isoformat(),
        }
    )
    alerts = store.list_alerts("m")
    assert [a["status"] for a in alerts] == ["resolved", "firing"]
    assert alerts[1]["at"] == T0.isoformat() and alerts[0]["value"] == 0.4
    assert [a["model"] for a in store.list_alerts()] == ["n", "m", "m"]
    assert len(store.list_alerts(limit=1)) == 1


def test_markers_and_baseline_records_load_like_reports(store: EventStore) -> None:
    """Window markers and baseline records live in their own tables; reading is the same."""
    end = T0 + timedelta(hours=1)
    saved = [
        StoredResult("m", "*", "drift_window", T0, end, T0, {"fingerprint": {"events": 1}}),
        StoredResult("m", "1", "baseline", T0, T0, T0, {"digest": "abc"}),
        StoredResult("m", "1", "drift", T0, end, T0, {"share": 0.5}),
        StoredResult("m", "*", "drift_window", T0, end, end, {"fingerprint": {"events": 2}}),
    ]
    store.save_results(saved)
    assert [r.kind for r in store.load_results("m")] == ["baseline", "drift", "drift_window"]
    [marker] = store.load_results("m", kind="drift_window", version="*", windows=[(T0, end)])
    assert marker.payload == {"fingerprint": {"events": 2}} and marker.computed_at == end
    assert store.load_results("m", kind="baseline")[0].payload == {"digest": "abc"}
    assert [r.kind for r in store.load_results("m", start=T0, end=end)] == [
        "baseline",
        "drift",
        "drift_window",
    ]
