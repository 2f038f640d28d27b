"""A RESOLVED message shows the value now next to the one the alert fired with: the real
analysis runner over a real store (each backend) finds a feature missing in half the events of
one day and not the next, and the notifier's messages reach a real local HTTP webhook."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from pydantic import SecretStr
from tests.conftest import Backend
from tests.notify.conftest import WebhookSink

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.analysis.service import AnalysisService
from keeneye.baseline import register_baseline
from keeneye.config import NotifySettings, Settings
from keeneye.notify import Notifier
from keeneye.store import open_store
from keeneye.store.records import PredictionEvent

DAY = datetime(2026, 3, 2, tzinfo=timezone.utc)


def _day(
    start: datetime, n: int, missing: float, rng: np.random.Generator
) -> list[PredictionEvent]:
    step = timedelta(days=1) / n
    return [
        PredictionEvent(
            f"{start:%m%d}-{i}",
            "1",
            start + i * step,
            {"age": None if i < missing * n else float(rng.normal(40, 10))},
            0.5,
        )
        for i in range(n)
    ]


def test_resolved_message_shows_the_value_now(
    backend: Backend, tmp_path: Path, webhook: WebhookSink
) -> None:
    clock = ManualClock(DAY)
    store = open_store(backend.location(tmp_path), clock=clock.now)
    rng = np.random.default_rng(8)
    notify = NotifySettings.model_validate(
        {"urls": [SecretStr(f"json://{webhook.url_host}/hook")], "group": False}
    )
    settings = Settings(analysis={"windows": ["daily"]})
    try:
        register_baseline(store, "churn", "1", {"age": rng.normal(40, 10, 2000)}, now=DAY)
        with Notifier(notify, store=store) as notifier:
            service = AnalysisService(AnalysisRunner(store, settings, clock), 60, notifier.process)
            store.write_predictions("churn", _day(DAY, 400, 0.5, rng))
            clock.set(DAY + timedelta(days=1, minutes=5))
            fired = service.run()
            (alert,) = [a for a in fired.active if a.rule == "missing_values"]
            assert alert.value == 0.5
            store.write_predictions("churn", _day(DAY + timedelta(days=1), 400, 0.0, rng))
            clock.set(DAY + timedelta(days=2, minutes=5))
            calm = service.run()
            assert not [a for a in calm.active if a.rule == "missing_values"]
            assert calm.readings[alert.key] == 0.0
            assert notifier.flush(timeout=30)
    finally:
        store.close()
    resolved = [m for m in webhook.received if m["title"].startswith("[keeneye] RESOLVED")]
    assert [m["title"] for m in resolved] == ["[keeneye] RESOLVED churn v1: missing_values age"]
    body = resolved[0]["message"]
    assert "value now: 0  (was 0.5 when it fired)  threshold: 0.1" in body, body
