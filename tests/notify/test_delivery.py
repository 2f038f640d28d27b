"""Notifications reach real local sinks through apprise: an HTTP webhook and an SMTP server."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import SecretStr
from tests.conftest import free_port
from tests.notify.conftest import SmtpSink, WebhookSink

from keeneye.config import NotifySettings
from keeneye.errors import ConfigError, InputError
from keeneye.notify import Alert, AlertStatus, CallbackChannel, Message, Notifier, Severity

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
UI = "http://keeneye.test:8765"


def drift_alert(severity: Severity = Severity.WARNING, value: float = 0.31) -> Alert:
    return Alert(
        model="churn",
        version="3",
        rule="feature_drift",
        subject="age",
        severity=severity,
        summary="feature 'age' drifted",
        window_start=T0 - timedelta(hours=1),
        window_end=T0,
        value=value,
        threshold=0.1,
    )


def traffic_alert() -> Alert:
    return Alert(
        model="churn",
        version="3",
        rule="traffic_change",
        subject="day/1d",
        severity=Severity.CRITICAL,
        summary="traffic -52% against a day ago",
        window_start=T0 - timedelta(days=1),
        window_end=T0,
        value=-0.52,
        threshold=-0.4,
    )


def settings(*urls: str, cooldown: float = 3600, **kw: object) -> NotifySettings:
    return NotifySettings.model_validate(
        {"urls": [SecretStr(u) for u in urls], "cooldown_seconds": cooldown, **kw}
    )


def test_webhook_gets_firing_no_repeat_in_cooldown_reminder_and_resolved(
    webhook: WebhookSink,
) -> None:
    url = f"json://{webhook.url_host}/hooks/keeneye"
    with Notifier(settings(url, cooldown=3600), public_url=UI) as notifier:
        sent = notifier.process([drift_alert()], now=T0)
        assert [m.kind.value for m in sent] == ["firing"]
        # still active, 10 and 59 minutes later: inside the cooldown, nothing goes out
        assert notifier.process([drift_alert()], now=T0 + timedelta(minutes=10)) == []
        assert notifier.process([drift_alert()], now=T0 + timedelta(minutes=59)) == []
        assert notifier.flush(timeout=30)
        assert len(webhook.received) == 1

        # the cooldown has passed: one reminder
        sent = notifier.process([drift_alert()], now=T0 + timedelta(hours=1))
        assert [m.kind.value for m in sent] == ["reminder"]
        # the condition is gone: resolved
        sent = notifier.process([], now=T0 + timedelta(hours=1, minutes=5))
        assert [m.kind.value for m in sent] == ["resolved"]
        assert notifier.flush(timeout=30)

    assert webhook.paths == ["/hooks/keeneye"] * 3
    firing, reminder, resolved = webhook.received
    # apprise's json:// payload: {"version", "title", "message", "type", ...}
    assert firing["type"] == "warning"
    assert firing["title"] == "[keeneye] WARNING churn v3: feature_drift age"
    body = firing["message"]
    assert body.startswith("feature 'age' drifted\n")
    assert "model: churn  version: 3" in body
    assert "window: 2026-11-02 08:00 → 2026-11-02 09:00 UTC" in body
    assert "value: 0.31  threshold: 0.1  (3.1× the threshold)" in body
    assert f"details: {UI}/models/churn?version=3&start=2026-11-02T08%3A00%3A00%2B00%3A00" in body
    assert reminder["title"].startswith("[keeneye] STILL WARNING churn v3")
    assert resolved["type"] == "success"
    assert resolved["title"] == "[keeneye] RESOLVED churn v3: feature_drift age"
    assert resolved["message"].startswith("resolved: feature 'age' drifted\n")
    assert notifier.stats().sent == 3 and notifier.stats().failed == 0


def test_email_reaches_smtp_sink_with_firing_and_resolved(smtp: SmtpSink) -> None:
    url = f"mailto://127.0.0.1:{smtp.port}?from=keeneye@example.com&to=ml-team@example.com"
    with Notifier(settings(url), public_url=UI) as notifier:
        notifier.process([traffic_alert()], now=T0)
        notifier.process([traffic_alert()], now=T0 + timedelta(minutes=30))  # deduplicated
        notifier.process([], now=T0 + timedelta(days=1))
        assert notifier.flush(timeout=30)

    assert smtp.recipients == [["ml-team@example.com"], ["ml-team@example.com"]]
    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects == [
        "[keeneye] CRITICAL churn v3: traffic_change day/1d",
        "[keeneye] RESOLVED churn v3: traffic_change day/1d",
    ]
    text = next(
        part.get_payload(decode=True).decode()
        for part in smtp.messages[0].walk()
        if part.get_content_type() == "text/plain"
    )
    assert "value: -0.52  threshold: -0.4  (1.3× the threshold)" in text
    assert "rule: traffic_change  subject: day/1d  severity: critical" in text


def test_severity_change_is_sent_at_once_and_keys_are_independent(webhook: WebhookSink) -> None:
    with Notifier(settings(f"json://{webhook.url_host}/"), public_url=None) as notifier:
        notifier.process([drift_alert()], now=T0)
        escalated = drift_alert(Severity.CRITICAL, value=0.9)
        sent = notifier.process([escalated, traffic_alert()], now=T0 + timedelta(minutes=5))
        assert [(m.kind.value, m.alert.rule) for m in sent] == [
            ("firing", "feature_drift"),
            ("firing", "traffic_change"),
        ]
        # only the drift alert clears; the traffic alert stays active and quiet
        sent = notifier.process([traffic_alert()], now=T0 + timedelta(minutes=10))
        assert [(m.kind.value, m.alert.rule) for m in sent] == [("resolved", "feature_drift")]
        assert [a.key for a in notifier.active()] == ["churn/3/traffic_change/day/1d"]
        assert notifier.flush(timeout=30)
    # The escalation and the new traffic alert of one evaluation arrive as one message.
    assert [r["type"] for r in webhook.received] == ["warning", "failure", "success"]
    assert "2 alerts (2 firing)" in webhook.received[1]["title"]
    assert "details:" not in webhook.received[0]["message"]  # no public URL configured


def test_send_resolved_off(webhook: WebhookSink) -> None:
    cfg = settings(f"json://{webhook.url_host}/", send_resolved=False)
    with Notifier(cfg) as notifier:
        notifier.process([drift_alert()], now=T0)
        assert notifier.process([], now=T0 + timedelta(hours=3)) == []
        assert notifier.active() == []
        assert notifier.flush(timeout=30)
    assert len(webhook.received) == 1


def test_failures_are_counted_and_logged_without_secrets(
    webhook: WebhookSink, caplog: pytest.LogCaptureFixture
) -> None:
    webhook.status = 500
    token = "tok3n-S3CR3T-value"
    refused = free_port()  # nothing listens there
    urls = [
        f"json://{webhook.url_host}/hooks/{token}",
        f"json://keeneye:{token}@127.0.0.1:{refused}/hook",
    ]
    caplog.set_level(logging.DEBUG)
    with Notifier(settings(*urls)) as notifier:
        assert all(token not in ch.name for ch in notifier.channels)
        notifier.process([drift_alert()], now=T0)
        assert notifier.flush(timeout=30)
        stats = notifier.stats()
    assert stats.sent == 0
    assert stats.failed == 2
    assert sorted(stats.failures_by_channel) == sorted(ch.name for ch in notifier.channels)
    assert len(webhook.received) == 1  # the server got it and answered 500
    failures = [r for r in caplog.records if r.name == "keeneye.notify"]
    assert len(failures) == 2
    assert all("failed on" in r.getMessage() for r in failures)
    assert token not in caplog.text


def test_delivery_does_not_block_the_caller_and_times_out(webhook: WebhookSink) -> None:
    # A webhook that accepts the request and then hangs: the caller returns at once, the delivery
    # thread gives up after apprise's read timeout (0.5 s here) and counts a failure.
    arrived, release = threading.Event(), threading.Event()
    import socket

    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(1)
    port = hanging.getsockname()[1]

    def accept() -> None:
        conn, _ = hanging.accept()
        arrived.set()
        release.wait(30)
        conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        notifier = Notifier(settings(f"json://127.0.0.1:{port}/hook", timeout=0.5))
        notifier.process([drift_alert()], now=T0)  # returns while the sink holds the request
        assert arrived.wait(30)
        assert notifier.stats().sent == 0 and notifier.stats().failed == 0
        assert notifier.flush(timeout=30)  # finished by the read timeout, not by the sink
        assert notifier.stats().failed == 1
        notifier.close()
    finally:
        release.set()
        thread.join(5)
        hanging.close()


def test_callback_channel_and_bad_input() -> None:
    got: list[Message] = []
    notifier = Notifier(settings(), channels=[CallbackChannel(got.append, name="cb")])
    with pytest.raises(InputError, match="pass only the alerts that are active now"):
        notifier.process(
            [drift_alert().__class__(**{**drift_alert().__dict__, "status": AlertStatus.RESOLVED})],
            now=T0,
        )
    notifier.process([drift_alert()], now=T0)
    assert notifier.flush(timeout=5)
    assert [m.kind.value for m in got] == ["firing"]
    notifier.close()
    with pytest.raises(InputError, match="closed"):
        notifier.process([], now=T0)


def test_invalid_apprise_url_names_the_setting_without_the_secret() -> None:
    with pytest.raises(
        ConfigError, match=r"notify.urls: 'nope://\*\*\*\*' is not an apprise URL"
    ) as e:
        Notifier(settings("nope://secret-token-123"))
    assert "secret-token-123" not in str(e.value)
