"""Backfill ingestion: ``Monitor.log_batch``/``log_labels`` send history in large batches to a
real collector and block until every row is acknowledged; a replay stores every row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from prometheus_client import CollectorRegistry

from keeneye import Monitor
from keeneye.errors import CollectorError, InputError

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_replay_of_history_stores_every_row(
    start_collector: Callable[..., Any], registry: CollectorRegistry
) -> None:
    collector = start_collector(max_batch_events=4_000)
    rng = np.random.default_rng(3)
    n = 30_000
    frame = pd.DataFrame({"age": rng.normal(40, 10, n), "plan": rng.choice(["a", "b"], n)})
    scores = rng.uniform(size=n)
    times = pd.Series(pd.date_range(START, periods=n, freq="min", tz="UTC"))
    ids = [f"h-{i}" for i in range(n)]
    with Monitor("loans", "1", url=collector.url, registry=registry) as monitor:
        # batch_size above the collector's limit: 413 answers split the batches, nothing lost.
        report = monitor.log_batch(
            frame,
            (scores >= 0.5).astype(int),
            probabilities=np.column_stack([1 - scores, scores]),
            classes=[0, 1],
            event_ids=ids,
            timestamps=times,
            batch_size=6_000,
        )
        assert report.stored == n and report.duplicates == 0 and report.event_ids == tuple(ids)
        assert report.requests > n // 6_000
        # A repeat of the same history is idempotent.
        again = monitor.log_batch(
            frame.head(100), [0] * 100, event_ids=ids[:100], timestamps=times[:100]
        )
        assert again.stored == 0 and again.duplicates == 100
        labels = monitor.log_labels(
            pa.array(ids[:20_000]),
            rng.integers(0, 2, 20_000),
            timestamps=[START + timedelta(days=90)] * 20_000,
        )
        assert labels.stored == 20_000 and labels.pending == 0
    # The live metrics describe live traffic only: the replay did not count as predictions.
    assert registry.get_sample_value(
        "keeneye_predictions_total", {"model": "loans", "version": "1"}
    ) in (None, 0.0)
    data = collector.store.read_window("loans", START, START + timedelta(days=60))
    assert data.events.num_rows == n
    assert data.events.column("label").null_count == n - 20_000
    first = data.events.slice(0, 1).to_pylist()[0]
    assert first["event_id"] == "h-0"
    assert first["timestamp"] == START
    assert first["probabilities"] is not None


def test_refusals_and_bad_input_raise(
    start_collector: Callable[..., Any], registry: CollectorRegistry, dead_url: str
) -> None:
    collector = start_collector(token="s3cret")
    with Monitor("loans", "1", url=collector.url, token="wrong", registry=registry) as monitor:
        with pytest.raises(CollectorError, match="HTTP 403"):
            monitor.log_batch([{"x": 1.0}], [0.5])
        with pytest.raises(InputError, match="2 values for 1 rows"):
            monitor.log_batch([{"x": 1.0}], [0.5, 0.2])
        with pytest.raises(InputError, match="no timezone"):
            monitor.log_batch([{"x": 1.0}], [0.5], timestamps=[datetime(2026, 1, 1)])
    dead = Monitor("loans", "1", url=dead_url, registry=registry, max_retries=0)
    with dead, pytest.raises(CollectorError, match="not acknowledged"):
        dead.log_labels(["a"], [1])
