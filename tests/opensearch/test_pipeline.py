"""End to end: SDK → `keeneye server --events opensearch://…` → OpenSearch; the statistics and
drift jobs read their windows from it and give exactly the results of a DuckDB run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.sdk import Monitor
from keeneye.store import open_store

from .support import Server

pytestmark = pytest.mark.e2e

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def rows(n: int) -> list[tuple[dict[str, Any], float]]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        inputs: dict[str, Any] = {
            "age": float(rng.normal(46, 10)),
            "plan": str(rng.choice(["basic", "pro", "team"])),
            "active": bool(i % 3),
        }
        if i == 5:
            inputs["age"] = float("nan")
        if i == 6:
            inputs["age"] = None
        if i == 7:
            inputs["plan"] = 3  # a wrong type: stored as an invalid marker
        out.append((inputs, float(rng.uniform())))
    return out


def send(url: str, data: list[tuple[dict[str, Any], float]]) -> None:
    monitor = Monitor("churn", "1", url, registry=CollectorRegistry(), flush_interval=0.2)
    try:
        for i, (inputs, prediction) in enumerate(data):
            at = DAY + timedelta(hours=1, seconds=20 * i)
            eid = monitor.log(inputs, prediction, event_id=f"e{i:04d}", timestamp=at)
            if i % 4 == 0:
                monitor.log_label(eid, int(prediction > 0.5), timestamp=at + timedelta(hours=2))
        assert monitor.flush(60)
        stats = monitor.stats()
        assert stats["sent"] == stats["offered"] and not any(stats["dropped"].values()), stats
    finally:
        monitor.close()


def test_sdk_collector_opensearch_analysis_equals_duckdb(
    tmp_path: Path, opensearch_url: str
) -> None:
    events_url = f"opensearch://{opensearch_url.split('://')[1]}?namespace=e{uuid.uuid4().hex[:10]}"
    data = rows(600)
    quiet = {"KEENEYE_ANALYSIS__ENABLED": "false"}  # the test runs the jobs itself, on a clock
    on_search = Server(
        ["--events", events_url, "--store", str(tmp_path / "rest.duckdb")],
        tmp_path / "a.log",
        quiet,
    )
    on_duck = Server(["--store", str(tmp_path / "all.duckdb")], tmp_path / "b.log", quiet)
    try:
        assert any(line.startswith("events: opensearch://") for line in on_search.output)
        send(on_search.url, data)
        send(on_duck.url, data)
    finally:
        on_search.stop()
        on_duck.stop()

    composite = open_store(events_url, rest=str(tmp_path / "rest.duckdb"))
    duck = open_store(str(tmp_path / "all.duckdb"))
    try:
        everything = (DAY - timedelta(days=1), DAY + timedelta(days=2))
        a = composite.read_window("churn", *everything)
        b = duck.read_window("churn", *everything)
        assert a.events.num_rows == len(data)
        for name in ("event_id", "version", "timestamp", "prediction", "label", "label_timestamp"):
            assert a.events.column(name).to_pylist() == b.events.column(name).to_pylist(), name
        assert a.features.to_pylist() == b.features.to_pylist() or _same_with_nan(a, b)
        assert composite.invalid_value_counts("churn", *everything) == duck.invalid_value_counts(
            "churn", *everything
        )
        assert composite.model_summary("churn").events == duck.model_summary("churn").events

        rng = np.random.default_rng(3)
        baseline = {
            "age": rng.normal(40, 10, 1000),
            "plan": rng.choice(["basic", "pro", "team"], 1000).astype(object),
            "active": rng.uniform(size=1000) < 0.6,
            "prediction": rng.uniform(0, 1, 1000),
        }
        results = []
        for store in (composite, duck):
            clock = ManualClock(DAY)
            register_baseline(store, "churn", "1", baseline, now=clock.now())
            clock.set(DAY + timedelta(days=1, hours=1))
            runner = AnalysisRunner(store, Settings(analysis={"windows": ["daily"]}), clock)
            report = runner.run_once()
            assert report.windows >= 1
            found = {
                (r.kind, r.version, r.window_start, r.window_end): dict(r.payload)
                for r in store.load_results("churn")
            }
            results.append(found)
        assert set(results[0]) == set(results[1])
        kinds = {key[0] for key in results[0]}
        assert {"drift", "summary"} <= kinds
        for key in results[0]:
            assert _strip(results[0][key]) == _strip(results[1][key]), key
    finally:
        composite.close()
        duck.close()


def _strip(payload: dict[str, Any]) -> Any:
    """A payload without the moments it was computed at."""
    return {k: v for k, v in payload.items() if k not in ("computed_at", "generated_at")}


def _same_with_nan(a: Any, b: Any) -> bool:
    left, right = a.features.to_pylist(), b.features.to_pylist()
    if len(left) != len(right):
        return False
    for x, y in zip(left, right, strict=True):
        for key in set(x) | set(y):
            u, v = x.get(key), y.get(key)
            if u != v and not (
                isinstance(u, float) and isinstance(v, float) and np.isnan(u) and np.isnan(v)
            ):
                return False
    return True
