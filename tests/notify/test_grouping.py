"""One notification per model and evaluation: a run that raises several alerts of a model
sends one message listing them (worst first); every alert's delivery is still recorded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import Backend
from tests.notify.test_delivery import T0, drift_alert, traffic_alert

from keeneye.config import NotifySettings
from keeneye.notify import Alert, CallbackChannel, Message, Notifier, Severity
from keeneye.store import open_store


def other_model() -> Alert:
    return Alert(
        model="fraud",
        version="1",
        rule="performance",
        subject="roc_auc",
        severity=Severity.WARNING,
        summary="roc_auc is 0.61, under 0.75 (200 labels)",
        window_start=T0 - timedelta(days=1),
        window_end=T0,
        value=0.61,
        threshold=0.75,
    )


def test_alerts_of_one_run_arrive_as_one_message_per_model(
    backend: Backend, tmp_path: Path
) -> None:
    got: list[Message] = []
    store = open_store(backend.location(tmp_path))
    notifier = Notifier(NotifySettings(), store=store, channels=[CallbackChannel(got.append)])
    try:
        decided = notifier.process([drift_alert(), traffic_alert(), other_model()], now=T0)
        assert len(decided) == 3  # the decisions stay per alert
        assert notifier.flush(timeout=10)
        assert len(got) == 2
        churn = next(m for m in got if m.alert.model == "churn")
        assert churn.title == "[keeneye] CRITICAL churn: 2 alerts (2 firing)"
        # Worst first: the critical traffic alert leads, both are in the body.
        assert churn.body.index("traffic_change") < churn.body.index("feature_drift")
        assert {p.alert.rule for p in churn.parts} == {"traffic_change", "feature_drift"}
        fraud = next(m for m in got if m.alert.model == "fraud")
        assert (
            fraud.parts == () and fraud.title == "[keeneye] WARNING fraud v1: performance roc_auc"
        )
        sent = [r for r in store.list_alerts("churn") if r["status"] == "sent"]
        assert sorted(r["rule"] for r in sent) == ["feature_drift", "traffic_change"]

        # Everything resolves in the next evaluation: again one message per model.
        got.clear()
        notifier.process([], now=T0 + timedelta(hours=2))
        assert notifier.flush(timeout=10)
        titles = sorted(m.title for m in got)
        assert titles[0] == "[keeneye] RESOLVED churn: 2 alerts (2 resolved)"
        assert len(got) == 2
    finally:
        notifier.close()
        store.close()


def test_grouping_can_be_turned_off() -> None:
    got: list[Message] = []
    notifier = Notifier(NotifySettings(group=False), channels=[CallbackChannel(got.append)])
    try:
        notifier.process([drift_alert(), traffic_alert()], now=T0)
        assert notifier.flush(timeout=10)
        assert len(got) == 2 and all(m.parts == () for m in got)
    finally:
        notifier.close()
