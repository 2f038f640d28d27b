"""The analysis inside the collector app: baseline upload, results and alerts API, a run on
demand, and the result gauges on ``/metrics`` (parsed with prometheus_client's parser)."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from prometheus_client.parser import text_string_to_metric_families

from keeneye.analysis.clock import ManualClock
from keeneye.config import Settings
from keeneye.server.app import create_app
from keeneye.server.peer_metrics import PEER_GAUGES
from keeneye.server.result_metrics import GAUGES, LAST_RUN
from keeneye.store import EventStore

from .conftest import MONDAY, labels_for, write_day


class Client:
    """A synchronous face on ``httpx.AsyncClient`` over the app's ASGI interface."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://keeneye") as c:
                return await c.request(method, path, **kwargs)

        return asyncio.run(call())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)


@pytest.fixture
def client(store: EventStore, clock: ManualClock) -> Iterator[Client]:
    settings = Settings(
        analysis={"windows": ["hourly", "daily"], "enabled": False, "outliers": {"enabled": True}},
        alerts={"drift_features": ["age"]},
    )
    app = create_app(settings, store, clock=clock.now)
    yield Client(app)
    app.state.notifier.close()


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_metrics_expose_the_documented_result_gauges(
    client: Client, store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(3)
    baseline = pa.table(
        {
            "age": rng.normal(40, 10, 1000),
            "plan": rng.choice(["basic", "pro", "team"], 1000),
            "prediction": rng.uniform(0, 1, 1000),
        }
    )
    put = client.put(
        "/v1/models/churn/versions/1/baseline",
        content=parquet_bytes(baseline),
        headers={"content-type": "application/vnd.apache.parquet"},
    )
    assert put.status_code == 201, put.text
    assert put.json()["rows"] == 1000 and put.json()["columns"] == ["age", "plan", "prediction"]

    write_day(store, "churn", MONDAY - timedelta(days=1), 240, rng=rng)  # a Sunday before
    events = write_day(store, "churn", MONDAY, 480, rng=rng)
    store.write_labels("churn", labels_for(events, MONDAY + timedelta(hours=23), rng, 0.5))
    clock.set(MONDAY + timedelta(days=1, minutes=5))
    run = client.post("/v1/analysis/run")
    assert run.status_code == 200, run.text
    assert run.json()["windows"] == 2 * 25 * 2  # 2 days: 24 hours and a day, for both jobs

    text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    base = {"model", "version", "window"}
    expected_labels = {
        "keeneye_feature_drift_score": base | {"feature", "method"},
        "keeneye_feature_drift_pvalue": base | {"feature", "method"},
        "keeneye_feature_drifted": base | {"feature", "method"},
        "keeneye_dataset_drift_share": base,
        "keeneye_feature_missing_ratio": base | {"feature"},
        "keeneye_feature_out_of_range_ratio": base | {"feature"},
        "keeneye_feature_baseline_missing_ratio": base | {"feature"},
        "keeneye_traffic_change_ratio": base | {"compared_to"},
        "keeneye_model_performance": base | {"metric"},
        "keeneye_prediction_bias": base,
        "keeneye_prediction_bias_normalized": base,
        "keeneye_label_coverage_ratio": base,
        "keeneye_window_events": base,
        "keeneye_window_labels": base,
        "keeneye_prediction_bias_z": base,
        "keeneye_outlier_share": base,
        "keeneye_outlier_expected_share": base,
        "keeneye_outlier_share_alert": base,
        "keeneye_probe_burst_clients": base,
    }
    # Exported for text and embedding features only (tests/modal/test_modal_server.py).
    modal_gauges = {
        "keeneye_text_oov_ratio", "keeneye_text_token_share", "keeneye_embedding_mmd2",
        "keeneye_embedding_auc", "keeneye_embedding_cosine_distance",
    }  # fmt: skip
    # (the estimated-performance and multivariate gauges: tests/server/test_peer_metrics.py)
    assert set(expected_labels) == set(GAUGES) - modal_gauges - set(PEER_GAUGES)
    for name, labels in expected_labels.items():
        assert name in families, name
        samples = families[name].samples
        assert samples, f"{name} has no samples"
        assert families[name].type == "gauge"
        for sample in samples:
            assert set(sample.labels) == labels, (name, sample.labels)

    def value(name: str, **labels: str) -> float:
        found = [
            s.value
            for s in families[name].samples
            if all(s.labels.get(k) == v for k, v in labels.items())
        ]
        assert len(found) == 1, (name, labels, found)
        return float(found[0])

    daily = {"model": "churn", "version": "1", "window": "daily"}
    assert value("keeneye_feature_drifted", feature="age", method="ks", **daily) == 0.0
    assert value("keeneye_label_coverage_ratio", **daily) == pytest.approx(0.5, abs=0.1)
    assert 0.6 < value("keeneye_model_performance", metric="accuracy", **daily) < 1.0
    assert value("keeneye_feature_missing_ratio", feature="plan", **daily) == 0.0
    hourly_missing = [
        s
        for s in families["keeneye_feature_missing_ratio"].samples
        if s.labels["window"] == "hourly"
    ]
    assert {s.labels["feature"] for s in hourly_missing} == {"age", "plan"}
    # Monday against Sunday: twice the traffic; no week-ago window yet.
    assert (
        value(
            "keeneye_traffic_change_ratio",
            model="churn",
            version="*",
            window="daily",
            compared_to="day",
        )
        == 1.0
    )
    assert families[LAST_RUN].samples[0].value == clock.now().timestamp()

    results = client.get("/v1/models/churn/results", params={"kind": "drift", "version": "1"})
    assert results.status_code == 200
    body = results.json()["results"]
    assert len(body) == 50 and {r["window"] for r in body} == {"hourly", "daily"}
    assert body[0]["payload"]["format"] == 2
    assert body[0]["payload"]["drift"]["reference"]["reason"] == "the version's own training data"


def test_api_errors_and_alert_history(
    client: Client, store: EventStore, clock: ManualClock
) -> None:
    bad_kind = client.get("/v1/models/churn/results", params={"kind": "nope"})
    assert bad_kind.status_code == 400
    assert "kind: 'nope' is unknown" in bad_kind.json()["error"]["message"]
    missing = client.get("/v1/models/ghost/results")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad_time = client.get("/v1/models/churn/results", params={"start": "yesterday"})
    assert bad_time.status_code == 400
    empty = client.put(
        "/v1/models/churn/versions/1/baseline",
        content=b"",
        headers={"content-type": "application/json"},
    )
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
    garbage = client.post(
        "/v1/models/churn/versions/1/baseline",
        content=b"\x00\x01 nope",
        headers={"content-type": "application/octet-stream"},
    )
    assert garbage.status_code == 400
    assert "send Parquet" in garbage.json()["error"]["message"]

    records = [{"age": 30 + i % 20, "plan": "basic"} for i in range(200)]
    ok = client.post(
        "/v1/models/churn/versions/1/baseline",
        content=json.dumps(records),
        headers={"content-type": "application/json"},
    )
    assert ok.status_code == 201 and ok.json()["rows"] == 200

    # A day whose "age" is far outside the baseline: the named feature drifts → an alert that
    # the notifier records in the history served by /v1/alerts.
    rng = np.random.default_rng(8)
    write_day(
        store,
        "churn",
        MONDAY,
        100,
        rng=rng,
        rows=lambda r, n: [{"age": float(a), "plan": "basic"} for a in r.normal(80, 5, n)],
    )
    clock.set(MONDAY + timedelta(days=1, minutes=5))
    run = client.post("/v1/analysis/run").json()
    assert any(
        a["rule"] == "feature_drift" and a["key"] == "churn/1/feature_drift/age"
        for a in run["active"]
    )
    history = client.get("/v1/alerts", params={"model": "churn"}).json()["alerts"]
    assert any(h.get("rule") == "feature_drift" and h.get("status") == "firing" for h in history)


def _pages(client: Client, path: str, key: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        answer = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body[key])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_results_and_alerts_come_in_pages_filtered_by_window(
    client: Client, store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(5)
    baseline = pa.table({"age": rng.normal(40, 10, 500), "plan": rng.choice(["a", "b"], 500)})
    client.put(
        "/v1/models/churn/versions/1/baseline",
        content=parquet_bytes(baseline),
        headers={"content-type": "application/vnd.apache.parquet"},
    )
    write_day(store, "churn", MONDAY, 240, rng=rng)
    clock.set(MONDAY + timedelta(days=1, minutes=5))
    assert client.post("/v1/analysis/run").status_code == 200

    path = "/v1/models/churn/results"
    whole = client.get(path, params={"limit": 10_000}).json()
    assert whole["next_cursor"] is None
    everything = whole["results"]
    assert len(everything) > 40
    pages = _pages(client, path, "results", limit=7)
    assert all(len(p) == 7 for p in pages[:-1]) and 0 < len(pages[-1]) <= 7
    assert [r for p in pages for r in p] == everything  # same order, nothing twice or missing

    daily = [r for p in _pages(client, path, "results", limit=3, window="daily") for r in p]
    assert daily == [r for r in everything if r["window"] == "daily"] and daily
    bad_window = client.get(path, params={"window": "dayly"})
    assert bad_window.status_code == 400
    assert "window: 'dayly' is unknown; use one of hourly, daily" in bad_window.text
    bad_cursor = client.get(path, params={"cursor": "bm90LWEtY3Vyc29y"})
    assert bad_cursor.status_code == 400 and "cursor:" in bad_cursor.json()["error"]["message"]

    # Alert history: several records share one time (one evaluation); pages split them.
    for i in range(11):
        at = (MONDAY + timedelta(hours=i // 3)).isoformat()
        hours = 24 if i % 2 else 1
        store.save_alert(
            {
                "key": f"churn/1/r/{i}",
                "model": "churn",
                "rule": "r",
                "status": "firing",
                "at": at,
                "window_start": MONDAY.isoformat(),
                "window_end": (MONDAY + timedelta(hours=hours)).isoformat(),
            }
        )
    alerts = client.get("/v1/alerts", params={"model": "churn", "limit": 1000}).json()["alerts"]
    paged = _pages(client, "/v1/alerts", "alerts", model="churn", limit=2)
    assert [a for p in paged for a in p] == alerts and len(alerts) >= 11
    hourly = _pages(client, "/v1/alerts", "alerts", model="churn", limit=2, window="hourly")
    assert [a for p in hourly for a in p] == [
        a for a in alerts if a["window_end"] == (MONDAY + timedelta(hours=1)).isoformat()
    ]
