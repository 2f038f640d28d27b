"""Alert history goes to the real store (each backend): firing, sent, failed, resolved —
and is listed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.conftest import Backend, free_port
from tests.notify.conftest import WebhookSink
from tests.notify.test_delivery import T0, drift_alert, settings, traffic_alert
from typer.testing import CliRunner

from keeneye.cli import app
from keeneye.notify import Notifier
from keeneye.store import open_store


def test_history_records_every_state_change(
    webhook: WebhookSink, backend: Backend, tmp_path: Path
) -> None:
    refused = free_port()
    urls = [f"json://{webhook.url_host}/ok", f"json://127.0.0.1:{refused}/down"]
    store = open_store(backend.location(tmp_path))
    try:
        with Notifier(settings(*urls), store=store) as notifier:
            notifier.process([drift_alert()], now=T0)
            notifier.process([drift_alert()], now=T0 + timedelta(minutes=5))  # deduplicated
            notifier.process([], now=T0 + timedelta(hours=2))
            assert notifier.flush(timeout=30)

        history = list(reversed(store.list_alerts("churn")))  # oldest first
        ok, down = (ch.name for ch in notifier.channels)
        assert [(h["status"], h.get("notification"), h.get("channel")) for h in history] == [
            ("firing", None, None),
            ("sent", "firing", ok),
            ("failed", "firing", down),
            ("resolved", None, None),
            ("sent", "resolved", ok),
            ("failed", "resolved", down),
        ]
        first = history[0]
        assert first["key"] == "churn/3/feature_drift/age"
        assert first["at"] == T0.isoformat()
        assert (first["value"], first["threshold"]) == (0.31, 0.1)
        assert history[3]["at"] == (T0 + timedelta(hours=2)).isoformat()
        assert ok == f"json://{webhook.url_host}/ok"
        assert down == f"json://127.0.0.1:{refused}/****"  # path segments may be tokens
        assert "Connection error" in history[2]["error"]
        assert store.list_alerts("other-model") == []
    finally:
        store.close()


def test_cli_lists_alert_history_from_the_store(backend: Backend, tmp_path: Path) -> None:
    path = backend.location(tmp_path)
    store = open_store(path)
    with Notifier(settings(), store=store) as notifier:
        notifier.process([drift_alert(), traffic_alert()], now=T0)
        notifier.process([traffic_alert()], now=T0 + timedelta(hours=1))
    store.close()

    result = CliRunner().invoke(app, ["alerts", "--store", path, "--model", "churn", "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["status"], r["rule"], r["subject"]) for r in records] == [
        ("resolved", "feature_drift", "age"),  # newest first
        ("firing", "traffic_change", "day/1d"),
        ("firing", "feature_drift", "age"),
    ]
    assert records[1]["summary"] == "traffic -52% against a day ago"

    table = CliRunner().invoke(app, ["alerts", "--store", path])
    assert table.exit_code == 0, table.output
    assert "alert history" in table.output
    assert table.output.count("firing") == 2 and table.output.count("resolved") == 1

    missing = CliRunner().invoke(app, ["alerts", "--store", str(tmp_path / "nope.duckdb")])
    assert missing.exit_code != 0
    assert "nope.duckdb" in missing.output and "does not exist" in missing.output
