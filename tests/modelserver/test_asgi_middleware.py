"""``KeeneyeMiddleware`` on an existing FastAPI app, served by uvicorn, logging to a real
collector: predictions with their inputs, probabilities and the app's own request ids."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry
from tests.modelserver.conftest import ThreadServer
from tests.modelserver.models import FEATURES, fit, training_frame
from tests.sdk.conftest import Collector

from keeneye.sdk import CapturedRequest, CapturedResponse, Extracted, KeeneyeMiddleware, Monitor


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    c = Collector(tmp_path / "events.duckdb")
    yield c
    c.stop()


def scoring_app(model: Any) -> FastAPI:
    """A team's own FastAPI server: ``POST /score`` takes rows, answers scores."""
    import pandas as pd

    app = FastAPI()

    @app.post("/score")
    async def score(request: Request) -> dict[str, Any]:
        body = await request.json()
        frame = pd.DataFrame(body["rows"])[FEATURES]
        return {
            "labels": model.predict(frame).tolist(),
            "scores": model.predict_proba(frame)[:, 1].tolist(),
        }

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return dict(await request.json())

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/boom")
    def boom() -> None:
        raise RuntimeError("the model crashed")

    return app


def extract(request: CapturedRequest, response: CapturedResponse) -> Extracted | None:
    if request.path == "/echo":
        raise ValueError("this extractor cannot read /echo")
    if request.path != "/score" or response.status_code != 200:
        return None
    rows, answer = request.json()["rows"], response.json()
    return Extracted(
        inputs=rows,
        predictions=answer["labels"],
        probabilities=[{"0": 1 - p, "1": p} for p in answer["scores"]],
        event_ids=[f"{request.headers['x-request-id']}-{i}" for i in range(len(rows))],
    )


def test_middleware_logs_the_apps_predictions(collector: Collector) -> None:
    model = fit(training_frame(seed=2))
    registry = CollectorRegistry()
    monitor = Monitor("scoring", "7", url=collector.url, registry=registry, flush_interval=0.05)
    app = scoring_app(model)
    app.add_middleware(KeeneyeMiddleware, monitor=monitor, extract=extract)
    batch = training_frame(seed=9, rows=5)
    rows = batch[FEATURES].to_dict(orient="records")
    with ThreadServer(app) as client:
        first = client.post("/score", json={"rows": rows[:3]}, headers={"x-request-id": "a"})
        second = client.post("/score", json={"rows": rows[3:]}, headers={"x-request-id": "b"})
        assert client.get("/health").json() == {"status": "ok"}
        echoed = client.post("/echo", json={"x": 1})  # the extractor fails: the app does not
        assert echoed.status_code == 200 and echoed.json() == {"x": 1}
        assert client.post("/boom").status_code == 500
    assert first.status_code == second.status_code == 200
    assert monitor.flush(10)
    monitor.close()

    now = datetime.now(UTC)
    data = collector.store.read_window(
        "scoring", now - timedelta(hours=1), now + timedelta(hours=1)
    )
    events = data.events.to_pylist()
    by_id = {e["event_id"]: i for i, e in enumerate(events)}
    assert sorted(by_id) == ["a-0", "a-1", "a-2", "b-0", "b-1"]
    expected = first.json()["labels"] + second.json()["labels"]
    for i, event_id in enumerate(["a-0", "a-1", "a-2", "b-0", "b-1"]):
        row = by_id[event_id]
        assert events[row]["version"] == "7"
        assert events[row]["prediction"] == expected[i]
        assert data.features["age"][row].as_py() == rows[i]["age"]
        assert data.features["plan"][row].as_py() == rows[i]["plan"]
        assert events[row]["latency_seconds"] > 0
    stats = monitor.stats()
    assert stats["dropped"]["invalid_input"] == 1  # the /echo extraction
    errors = registry.get_sample_value(
        "keeneye_prediction_errors_total",
        {"model": "scoring", "version": "7", "exception": "RuntimeError"},
    )
    assert errors == 1.0
