"""The same checks for every kind of channel: a firing and a resolved message arrive, in order,
with the condition in the title; a failing channel raises DeliveryError and is counted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from tests.conftest import free_port
from tests.notify.conftest import SmtpSink, WebhookSink
from tests.notify.test_delivery import T0, drift_alert, settings

from keeneye.notify import (
    AppriseChannel,
    CallbackChannel,
    Channel,
    DeliveryError,
    LogChannel,
    Message,
    MessageKind,
    Notifier,
    format_message,
)

TITLES = [
    "[keeneye] WARNING churn v3: feature_drift age",
    "[keeneye] RESOLVED churn v3: feature_drift age",
]


def _webhook(request: pytest.FixtureRequest) -> tuple[Channel, Callable[[], list[str]]]:
    sink: WebhookSink = request.getfixturevalue("webhook")
    channel = AppriseChannel(f"json://{sink.url_host}/hook", timeout=10)
    return channel, lambda: [r["title"] for r in sink.received]


def _email(request: pytest.FixtureRequest) -> tuple[Channel, Callable[[], list[str]]]:
    sink: SmtpSink = request.getfixturevalue("smtp")
    url = f"mailto://127.0.0.1:{sink.port}?from=keeneye@example.com&to=ops@example.com"
    return AppriseChannel(url, timeout=10), lambda: [str(m["Subject"]) for m in sink.messages]


def _log(request: pytest.FixtureRequest) -> tuple[Channel, Callable[[], list[str]]]:
    caplog: pytest.LogCaptureFixture = request.getfixturevalue("caplog")
    caplog.set_level(logging.INFO, logger="keeneye.test-channel")
    channel = LogChannel(logging.getLogger("keeneye.test-channel"))
    return channel, lambda: [
        r.getMessage().splitlines()[0] for r in caplog.records if r.name == "keeneye.test-channel"
    ]


def _callback(request: pytest.FixtureRequest) -> tuple[Channel, Callable[[], list[str]]]:
    got: list[Message] = []
    return CallbackChannel(got.append), lambda: [m.title for m in got]


CHANNELS = {"webhook": _webhook, "email": _email, "log": _log, "callback": _callback}


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_channel_delivers_firing_then_resolved(kind: str, request: pytest.FixtureRequest) -> None:
    channel, received = CHANNELS[kind](request)
    assert channel.name and "s3cr3t" not in channel.name
    with Notifier(settings(), channels=[channel]) as notifier:
        notifier.process([drift_alert()], now=T0)
        notifier.process([drift_alert()], now=T0 + timedelta(minutes=1))  # deduplicated
        notifier.process([], now=T0 + timedelta(minutes=2))
        assert notifier.flush(timeout=30)
        assert notifier.stats().sent == 2
    assert received() == TITLES


def _refused_webhook() -> Channel:
    return AppriseChannel(f"json://u:s3cr3t@127.0.0.1:{free_port()}/hook", timeout=5)


def _refused_email() -> Channel:
    return AppriseChannel(
        f"mailto://127.0.0.1:{free_port()}?from=a@example.com&to=b@example.com", timeout=5
    )


def _raising_callback() -> Channel:
    def boom(message: Message) -> None:
        raise RuntimeError("downstream said no")

    return CallbackChannel(boom, name="boom")


@pytest.mark.parametrize(
    "make", [_refused_webhook, _refused_email, _raising_callback], ids=["webhook", "email", "cb"]
)
def test_failing_channel_raises_delivery_error_and_is_counted(make: Callable[[], Channel]) -> None:
    channel = make()
    with pytest.raises(DeliveryError) as info:
        channel.send(format_message(drift_alert(), MessageKind.FIRING))
    assert channel.name in str(info.value) and "s3cr3t" not in str(info.value)
    with Notifier(settings(), channels=[channel]) as notifier:
        notifier.process([drift_alert()], now=T0)
        assert notifier.flush(timeout=30)
        assert notifier.stats().failed == 1
        assert notifier.stats().failures_by_channel == {channel.name: 1}
