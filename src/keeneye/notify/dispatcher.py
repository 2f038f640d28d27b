"""The notifier: decides what to send after each evaluation, and sends it off the caller's thread.

After every evaluation the analysis loop hands :meth:`Notifier.process` the alerts that are active
*now*. The notifier compares them with what it has already told people:

- a new key (or a key whose severity changed) → a ``firing`` message, right away;
- a key still active → nothing, until ``cooldown_seconds`` have passed since its last message,
  then a ``reminder``;
- a key that was firing and is no longer active → a ``resolved`` message (``send_resolved``).

Decisions are made synchronously on the ``now`` passed in (so tests and the demo control time);
delivery runs on one background thread, in order, with per-channel timeouts, so a slow Slack or
SMTP server never holds the analysis loop. Every state change is written to the store's alert
history: ``firing`` / ``resolved`` when decided, then ``sent`` / ``failed`` per channel.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from keeneye.config import NotifySettings
from keeneye.errors import InputError
from keeneye.notify.alert import Alert, AlertStatus
from keeneye.notify.channels import AppriseChannel, Channel, DeliveryError
from keeneye.notify.grouping import group_messages
from keeneye.notify.message import Message, MessageKind, format_message
from keeneye.stats.results import json_safe
from keeneye.store.base import EventStore

log = logging.getLogger("keeneye.notify")

_STOP = object()


@dataclass(frozen=True)
class DeliveryStats:
    """Counts since the notifier started, per outcome and per failing channel."""

    queued: int
    sent: int
    failed: int
    dropped: int
    failures_by_channel: Mapping[str, int]


@dataclass
class _KeyState:
    alert: Alert
    last_sent: datetime


class Notifier:
    """Deduplicates alerts, applies the cooldown, sends and records them.

    >>> from datetime import timezone
    >>> from keeneye.notify import Alert, CallbackChannel, Severity
    >>> got = []
    >>> n = Notifier(NotifySettings(cooldown_seconds=3600), channels=[CallbackChannel(got.append)])
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> a = Alert(model="m", version="1", rule="traffic_change", subject="day",
    ...           severity=Severity.WARNING, summary="traffic -45%", window_start=t0,
    ...           window_end=t0 + timedelta(days=1), value=-0.45, threshold=-0.4)
    >>> [m.kind.value for m in n.process([a], now=t0)]
    ['firing']
    >>> n.process([a], now=t0 + timedelta(minutes=30))   # still active, inside the cooldown
    []
    >>> [m.kind.value for m in n.process([], now=t0 + timedelta(hours=2))]
    ['resolved']
    >>> n.flush(timeout=5)
    True
    >>> [m.title for m in got]
    ['[keeneye] WARNING m v1: traffic_change day', '[keeneye] RESOLVED m v1: traffic_change day']
    >>> n.close()
    """

    def __init__(
        self,
        settings: NotifySettings | None = None,
        *,
        store: EventStore | None = None,
        channels: Sequence[Channel] | None = None,
        public_url: str | None = None,
        max_queue: int = 1000,
    ) -> None:
        self.settings = settings or NotifySettings.model_validate({})
        self.store = store
        self.public_url = public_url
        built = [
            AppriseChannel(url.get_secret_value(), timeout=self.settings.timeout)
            for url in self.settings.urls
        ]
        self.channels: list[Channel] = [*built, *(channels or [])]
        self._cooldown = timedelta(seconds=self.settings.cooldown_seconds)
        self._active: dict[str, _KeyState] = {}
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="keeneye-notify", daemon=True)
        self._worker.start()

    # -- deciding -------------------------------------------------------------------------------
    def process(
        self,
        alerts: Sequence[Alert],
        now: datetime,
        readings: Mapping[str, float] | None = None,
    ) -> list[Message]:
        """Take the alerts active after an evaluation; return the messages queued for sending.

        ``alerts`` is the complete set of active alerts: a key that was firing and is missing
        from it is resolved. Several alerts with the same key count once (the last one wins).
        ``readings`` are what the rules measure now, by alert key
        (:func:`keeneye.analysis.rules.readings`): a resolved message shows the value now next
        to the one the alert fired with.
        """
        if self._closed:
            raise InputError("this Notifier is closed; create a new one to send notifications")
        current: dict[str, Alert] = {}
        for alert in alerts:
            if alert.status is not AlertStatus.FIRING:
                raise InputError(
                    f"alert {alert.key!r} has status {alert.status.value!r}; pass only the "
                    "alerts that are active now — resolution is decided by the notifier"
                )
            current[alert.key] = alert
        messages: list[Message] = []
        for key, alert in current.items():
            state = self._active.get(key)
            if state is None or state.alert.severity != alert.severity:
                kind = MessageKind.FIRING
                self._record(alert, "firing", now)
            elif now - state.last_sent >= self._cooldown:
                kind = MessageKind.REMINDER
            else:
                state.alert = alert  # keep the latest window and value for the resolved message
                continue
            self._active[key] = _KeyState(alert=alert, last_sent=now)
            messages.append(format_message(alert, kind, self.public_url, at=now))
        for key in [k for k in self._active if k not in current]:
            gone = self._active.pop(key).alert
            self._record(gone, "resolved", now)
            if self.settings.send_resolved:
                messages.append(
                    format_message(
                        gone,
                        MessageKind.RESOLVED,
                        self.public_url,
                        at=now,
                        current=None if readings is None else readings.get(key),
                        measured=readings is not None,
                    )
                )
        # One message per model and evaluation: eight alerts of a bad day arrive as one.
        for message in group_messages(messages) if self.settings.group else messages:
            self._enqueue(message, now)
        return messages

    def active(self) -> list[Alert]:
        """The alerts currently considered firing."""
        return [state.alert for state in self._active.values()]

    # -- delivering -----------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued message was delivered or failed; False on timeout."""
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def stats(self) -> DeliveryStats:
        """How many messages were queued, sent, failed and dropped (queue full), per channel."""
        with self._lock:
            return DeliveryStats(
                queued=self._counts["queued"],
                sent=self._counts["sent"],
                failed=self._counts["failed"],
                dropped=self._counts["dropped"],
                failures_by_channel=dict(self._failures),
            )

    def close(self, timeout: float | None = None) -> None:
        """Deliver what is queued (up to ``timeout`` seconds) and stop the delivery thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._worker.join(timeout)

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _enqueue(self, message: Message, now: datetime) -> None:
        if not self.channels:
            return
        try:
            self._queue.put_nowait((message, now))
        except queue.Full:
            with self._lock:
                self._counts["dropped"] += len(self.channels)
            log.error(
                "notification queue full (%d messages): dropped %s for %s",
                self._queue.maxsize,
                message.kind.value,
                message.alert.key,
            )
            return
        with self._lock:
            self._counts["queued"] += len(self.channels)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            message, now = item
            for channel in self.channels:
                self._deliver(channel, message, now)

    def _deliver(self, channel: Channel, message: Message, now: datetime) -> None:
        try:
            channel.send(message)
        except Exception as exc:  # a broken channel must never stop the others
            reason = str(exc) if isinstance(exc, DeliveryError) else type(exc).__name__
            with self._lock:
                self._counts["failed"] += 1
                self._failures[channel.name] += 1
            log.warning(
                "notification %s for %s failed on %s: %s",
                message.kind.value,
                message.alert.key,
                channel.name,
                reason,
            )
            for part in message.parts or (message,):
                self._record(
                    part.alert, "failed", now, message=part, channel=channel.name, error=reason
                )
            return
        with self._lock:
            self._counts["sent"] += 1
        for part in message.parts or (message,):
            self._record(part.alert, "sent", now, message=part, channel=channel.name)

    # -- history --------------------------------------------------------------------------------
    def _record(
        self,
        alert: Alert,
        status: str,
        now: datetime,
        *,
        message: Message | None = None,
        channel: str | None = None,
        error: str | None = None,
    ) -> None:
        if self.store is None:
            return
        entry = alert_history_entry(alert, status, now)
        if message is not None:
            entry["notification"] = message.kind.value
        if channel is not None:
            entry["channel"] = channel
        if error is not None:
            entry["error"] = error
        try:
            self.store.save_alert(entry)
        except Exception:  # history is best effort: it must not stop delivery or analysis
            log.exception("could not save alert history for %s", alert.key)


def alert_history_entry(alert: Alert, status: str, at: datetime) -> dict[str, Any]:
    """The JSON-serialisable mapping stored for one alert state change.

    >>> from datetime import timezone
    >>> from keeneye.notify import Severity
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> a = Alert(model="m", version="1", rule="r", subject="s", severity=Severity.WARNING,
    ...           summary="x", window_start=t, window_end=t, value=float("nan"))
    >>> e = alert_history_entry(a, "firing", t)
    >>> e["key"], e["status"], e["at"], e["value"]
    ('m/1/r/s', 'firing', '2026-01-01T00:00:00+00:00', None)
    """
    return {
        "key": alert.key,
        "model": alert.model,
        "version": alert.version,
        "rule": alert.rule,
        "subject": alert.subject,
        "severity": alert.severity.value,
        "status": status,
        "at": at.isoformat(),
        "summary": alert.summary,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "value": _finite_or_none(alert.value),
        "threshold": _finite_or_none(alert.threshold),
        "details": _json_safe(alert.details),
    }


def _finite_or_none(x: float | None) -> float | None:
    # JSON has no NaN/inf; the summary says what the value was.
    if x is None or x != x or x in (float("inf"), float("-inf")):
        return None
    return float(x)


def _json_safe(value: Any) -> Any:
    return json_safe(value)
