"""The model page's empty charts state the real reason: no baseline, a registered baseline
with no completed window yet, or events without latency — never a guess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from keeneye.baseline.register import register_baseline
from keeneye.config import Settings
from keeneye.server.ui.timerange import parse_range
from keeneye.server.ui.views import model_page
from keeneye.store.duckdb import DuckDBStore
from keeneye.store.records import PredictionEvent

NOW = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)


def _messages(page: dict[str, Any], chart_id: str) -> str:
    return str(next(c.spec for c in page["charts"] if c.id == chart_id))


def test_empty_charts_say_why() -> None:
    store = DuckDBStore(":memory:")
    settings = Settings()
    events = [
        PredictionEvent(
            event_id=f"e{i}",
            version="3",
            timestamp=NOW - timedelta(minutes=i),
            inputs={"age": 30.0 + i},
            prediction=0.5,
            probabilities=None,
            latency_seconds=None,
        )
        for i in range(20)
    ]
    store.write_predictions("churn", events)
    tr = parse_range({"range": "24h"}, NOW + timedelta(minutes=1), ("hourly", "daily"))

    page = model_page(store, settings, "churn", tr)
    drift = _messages(page, "drift-heatmap")
    assert "no baseline is registered for version 3" in drift and "is a baseline" not in drift

    register_baseline(store, "churn", "3", pa.table({"age": [float(a) for a in range(100)]}))
    page = model_page(store, settings, "churn", tr)
    drift = _messages(page, "drift-heatmap")
    assert "version 3's baseline is registered; no window has completed in this range yet" in (
        drift
    )
    latency = _messages(page, "latency-chart")
    assert "window has completed in this range yet" in latency
    assert "no latency was reported" not in latency
    store.close()
