"""End to end: sensitive values through SDK → `keeneye server` (a real process) → DuckDB →
analysis → results API, UI, `/metrics`, notifications and logs — and no raw value anywhere.

Half of the traffic comes from an SDK configured with the model's privacy policy, half from an
SDK without it (and the baseline is uploaded raw over HTTP): the collector must enforce the
policy on its own. Hashed event ids must still join their labels; a probing client (hashed by
policy) sends out-of-distribution near-duplicates, which raise the outlier alerts whose
notifications name the client only by its hash.
"""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from prometheus_client import CollectorRegistry
from tests.e2e.test_pipeline import ServerProcess
from tests.notify.conftest import WebhookSink

from keeneye.config import load_settings
from keeneye.privacy.policy import PrivacyPolicy
from keeneye.sdk import Monitor
from keeneye.store.duckdb import DuckDBStore

pytestmark = pytest.mark.e2e

SECRET = "s3cret-for-the-privacy-test-0123456789"
EMAIL = "alice.smith@example.com"
CARD = "4111 1111 1111 1111"
PHONE = "+44 20 7946 0958"
DROPPED = "dropped-secret-{i}@example.net"
CUSTOMER = "customer-name-{i}"
PROBER = "client-mallory"
ORDER = "order-{i:05d}"


def config(path: Path, webhook: WebhookSink) -> Path:
    settings = {
        "analysis": {
            "windows": ["daily"],
            "enabled": False,
            "grace_seconds": 0,  # yesterday's window is complete even just after midnight
            "outliers": {"enabled": True, "client_key": "client", "burst_min_duplicates": 20},
        },
        "alerts": {"drift_features": ["*"], "min_events": 30},
        "notify": {"urls": [f"json://{webhook.url_host}/hooks"], "group": False},
        "privacy": {
            "models": {
                "churn": {
                    "fields": {
                        "email": "drop",
                        "customer": "hash",
                        "client": "hash",
                        "age": {"policy": "bucket", "edges": [0, 18, 25, 35, 45, 55, 65]},
                    },
                    "pii": "detect",
                    "pii_action": "hash",
                    "event_id": "hash",
                }
            }
        },
    }
    path.write_text(yaml.safe_dump(settings))
    return path


def row(rng: np.random.Generator, i: int, *, client: str) -> dict[str, Any]:
    r: dict[str, Any] = {
        "request_id": ORDER.format(i=i),
        "age": float(rng.normal(40, 10)),
        "income": float(rng.normal(3000, 500)),
        "plan": str(rng.choice(["basic", "pro", "team"])),
        "email": DROPPED.format(i=i),
        "customer": CUSTOMER.format(i=i),
        "client": client,
        "note": ["no note", f"mail me at {EMAIL}", f"card {CARD}", f"call {PHONE}"][i % 4],
    }
    return r


def test_no_raw_sensitive_value_leaves_the_pipeline(
    tmp_path: Path, webhook: WebhookSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEENEYE_PRIVACY_SECRET", SECRET)  # the model server's environment
    cfg = config(tmp_path / "keeneye.yaml", webhook)
    store_path = tmp_path / "events.duckdb"
    env = {"KEENEYE_CONFIG": str(cfg), "KEENEYE_PRIVACY_SECRET": SECRET}
    server = ServerProcess(store_path, env=env)
    rng = np.random.default_rng(16)
    day = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    day -= timedelta(days=1)  # yesterday: a complete daily window
    try:
        # the baseline goes up raw, over plain HTTP: the collector applies the policy to it
        base_rows = [row(rng, 10**6 + i, client=f"client-{i % 40}") for i in range(2000)]
        for r in base_rows:
            del r["request_id"]
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(base_rows), sink)
        put = httpx.put(
            f"{server.url}/v1/models/churn/versions/1/baseline",
            content=sink.getvalue(),
            headers={"content-type": "application/vnd.apache.parquet"},
            timeout=60,
        )
        assert put.status_code == 201, put.text
        assert "email" not in put.json()["columns"]  # a dropped column is not stored

        ticks = iter(range(10**6))
        clock = lambda: (day + timedelta(seconds=30 * next(ticks))).timestamp()  # noqa: E731
        kw: dict[str, Any] = {"url": server.url, "flush_interval": 0.05, "clock": clock}
        with_policy = Monitor(
            "churn", "1", registry=CollectorRegistry(), privacy=cfg, **kw
        )  # reads privacy.models.churn and the secret from the environment
        assert with_policy.privacy is not None
        raw = Monitor("churn", "1", registry=CollectorRegistry(), **kw)  # no policy at all
        predict_private = with_policy.watch(id_key="request_id")(lambda r: 0.5)
        predict_raw = raw.watch(id_key="request_id")(lambda r: 0.5)
        n = 600
        for i in range(n):
            (predict_private if i % 2 else predict_raw)(row(rng, i, client=f"client-{i % 40}"))
        # a probing client: out-of-distribution near-duplicates
        for j in range(60):
            probe = row(rng, n + j, client=PROBER)
            probe.update(age=90.0 + 0.001 * j, income=20_000.0 + 0.01 * j)
            predict_raw(probe)
        assert with_policy.flush(timeout=60) and raw.flush(timeout=60)
        # labels by the raw order ids, from both kinds of SDK: they must join their events
        for i in range(0, n, 3):
            (with_policy if i % 2 else raw).log_label(ORDER.format(i=i), i % 2)
        assert with_policy.flush(timeout=60) and raw.flush(timeout=60)
        with_policy.close()
        raw.close()

        summary = httpx.get(f"{server.url}/v1/models/churn", timeout=10).json()
        assert summary["events"] == n + 60
        assert summary["labels"] == len(range(0, n, 3))  # every label joined its prediction

        run = httpx.post(f"{server.url}/v1/analysis/run", timeout=300)
        assert run.status_code == 200, run.text
        rules = {a["rule"] for a in run.json()["alerts"]}
        assert {"outlier_share", "probe_burst"} <= rules, run.json()["alerts"]

        responses = [run.text, put.text]
        for path in (
            "/v1/models",
            "/v1/models/churn",
            "/v1/models/churn/results",
            "/v1/alerts",
            "/metrics",
            "/",
            "/models/churn",
            *(f"/models/churn/features/{f}" for f in ("note", "customer", "client", "age")),
        ):
            got = httpx.get(f"{server.url}{path}", timeout=30)
            assert got.status_code == 200, (path, got.status_code, got.text[:300])
            responses.append(got.text)
        deadline = time.monotonic() + 30
        while len(webhook.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(webhook.received) >= 2  # the outlier share and the probe burst
        notifications = [str(m) for m in webhook.received]
    finally:
        server.stop()

    policy = PrivacyPolicy.for_model(
        load_settings(cfg).privacy, "churn", environ={"KEENEYE_PRIVACY_SECRET": SECRET}
    )
    assert policy is not None
    hashed_prober = policy.hash(PROBER)
    assert any(hashed_prober in text for text in notifications)  # named by its hash only

    stored = b"".join(p.read_bytes() for p in tmp_path.glob("events.duckdb*") if p.is_file())
    logs = store_path.with_suffix(".stderr").read_bytes()
    texts = {
        "store file": stored,
        "server log": logs,
        "HTTP responses": "\n".join(responses).encode(),
        "notifications": "\n".join(notifications).encode(),
    }
    raw_values = [EMAIL, CARD, CARD.replace(" ", ""), PHONE, PROBER, SECRET]
    raw_values += [DROPPED.format(i=i) for i in (0, 1, 599)]
    raw_values += [CUSTOMER.format(i=i) for i in (0, 1, 599)]
    raw_values += [ORDER.format(i=i) for i in (0, 1, 599)]
    for where, data in texts.items():
        for value in raw_values:
            assert value.encode() not in data, f"{value!r} found in the {where}"
    # a control: the grep can find what is stored (kept values, hashed ids)
    assert b"basic" in stored and policy.hash(ORDER.format(i=3)).encode() in stored

    with DuckDBStore(store_path) as store:
        window = store.read_window("churn", day, day + timedelta(days=1))
        events = {e["event_id"]: e for e in window.events.to_pylist()}
        features = window.features.to_pylist()
    assert set(window.features.column_names) >= {"age", "customer", "client", "note"}
    assert "email" not in window.features.column_names
    assert {f["age"] for f in features} <= {0.0, 18.0, 25.0, 35.0, 45.0, 55.0, 65.0}
    # hashed ids joined: the label of order i sits on the event stored as hash(order i)
    for i in range(0, n, 3):
        assert events[policy.hash(ORDER.format(i=i))]["label"] == i % 2
