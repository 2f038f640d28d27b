"""Turn an alert into the message people read: what, where, by how much, and where to look."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from urllib.parse import quote, urlencode

from keeneye.notify.alert import Alert


class MessageKind(str, Enum):
    """Why a message is sent."""

    FIRING = "firing"  # the alert became active (or changed severity)
    REMINDER = "reminder"  # still active after the cooldown
    RESOLVED = "resolved"  # no longer active


@dataclass(frozen=True)
class Message:
    """One notification, ready for any channel."""

    kind: MessageKind
    alert: Alert
    title: str
    body: str
    link: str | None
    at: datetime | None = None  # when the notifier decided to send it (the caller's clock)
    #: The messages a per-model group combines (empty for a message about one alert).
    parts: tuple[Message, ...] = ()

    @property
    def level(self) -> str:
        """``"critical"``, ``"warning"`` or ``"resolved"`` (mapped to the channel's colours)."""
        if self.kind is MessageKind.RESOLVED:
            return "resolved"
        return self.alert.severity.value


def alert_link(alert: Alert, public_url: str | None) -> str | None:
    """The UI page of the alert's model, version and window, or None without a public URL.

    >>> from keeneye.notify.alert import Severity
    >>> a = Alert(model="churn", version="3", rule="traffic_change", subject="day",
    ...           severity=Severity.WARNING, summary="traffic fell",
    ...           window_start=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...           window_end=datetime(2026, 1, 2, tzinfo=timezone.utc))
    >>> alert_link(a, "https://keeneye.example.com/")
    'https://keeneye.example.com/models/churn?version=3&start=2026-01-01T00%3A00%3A00%2B00%3A00&end=2026-01-02T00%3A00%3A00%2B00%3A00'
    """
    if not public_url:
        return None
    query = urlencode(
        {
            "version": alert.version,
            "start": alert.window_start.isoformat(),
            "end": alert.window_end.isoformat(),
        }
    )
    return f"{public_url.rstrip('/')}/models/{quote(alert.model, safe='')}?{query}"


def format_message(
    alert: Alert,
    kind: MessageKind,
    public_url: str | None = None,
    *,
    at: datetime | None = None,
    current: float | None = None,
    measured: bool = False,
) -> Message:
    """Build the title and plain-text body of a notification. With ``measured`` (the caller
    passed what the rules measure now), a resolved message shows the value the alert fired
    with next to ``current``, the value now (``None``: not measured in the latest window).

    >>> from keeneye.notify.alert import Severity
    >>> a = Alert(model="churn", version="3", rule="feature_drift", subject="age",
    ...           severity=Severity.CRITICAL, summary="feature 'age' drifted",
    ...           window_start=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...           window_end=datetime(2026, 1, 1, 1, tzinfo=timezone.utc),
    ...           value=0.31, threshold=0.1)
    >>> m = format_message(a, MessageKind.FIRING)
    >>> m.title
    '[keeneye] CRITICAL churn v3: feature_drift age'
    >>> print(m.body)
    feature 'age' drifted
    model: churn  version: 3
    rule: feature_drift  subject: age  severity: critical
    window: 2026-01-01 00:00 → 2026-01-01 01:00 UTC
    value: 0.31  threshold: 0.1  (3.1× the threshold)
    """
    if kind is MessageKind.RESOLVED:
        head = "RESOLVED"
    elif kind is MessageKind.REMINDER:
        head = f"STILL {alert.severity.value.upper()}"
    else:
        head = alert.severity.value.upper()
    # The title names the condition (rule and subject), the body's first line says what happened:
    # rules may already put model and window into their summary.
    title = f"[keeneye] {head} {alert.model} v{alert.version}: {alert.rule} {alert.subject}"
    lines = [
        alert.summary if kind is not MessageKind.RESOLVED else f"resolved: {alert.summary}",
        f"model: {alert.model}  version: {alert.version}",
        f"rule: {alert.rule}  subject: {alert.subject}  severity: {alert.severity.value}",
        f"window: {_window(alert.window_start, alert.window_end)}",
    ]
    if kind is MessageKind.RESOLVED and measured:
        change = describe_resolution(alert.value, current, alert.threshold)
    else:
        change = describe_change(alert.value, alert.threshold)
    if change:
        lines.append(change)
    link = alert_link(alert, public_url)
    if link:
        lines.append(f"details: {link}")
    return Message(kind=kind, alert=alert, title=title, body="\n".join(lines), link=link, at=at)


def describe_change(value: float | None, threshold: float | None) -> str | None:
    """``value vs threshold`` in words, with the ratio when it means something.

    >>> describe_change(-0.52, -0.4)
    'value: -0.52  threshold: -0.4  (1.3× the threshold)'
    >>> describe_change(-0.5, 0.4)   # a 50 % drop against a ±40 % rule
    'value: -0.5  threshold: 0.4  (1.2× the threshold)'
    >>> describe_change(8e-08, 0.05)  # a p-value under alpha: a ratio would read backwards
    'value: 8e-08  threshold: 0.05'
    >>> describe_change(float("nan"), 0.0)
    'value: nan  threshold: 0'
    >>> describe_change(None, None) is None
    True
    """
    if value is None and threshold is None:
        return None
    text = f"value: {_num(value)}  threshold: {_num(threshold)}"
    if (
        value is not None
        and threshold is not None
        and math.isfinite(value)
        and math.isfinite(threshold)
        and threshold != 0
        and abs(value) >= abs(threshold)
    ):
        # Thresholds are often magnitudes (traffic ±40 %): compare sizes, not signs. Only a value
        # past the threshold in size gets a ratio; for lower bounds (p-values under alpha,
        # accuracy under its minimum) "0.0001× the threshold" would read as harmless.
        text += f"  ({abs(value) / abs(threshold):.2g}× the threshold)"
    return text


def describe_resolution(
    fired: float | None, current: float | None, threshold: float | None
) -> str | None:
    """The value an alert fired with, the value now, and the threshold.

    >>> describe_resolution(0.31, 0.04, 0.1)
    'value now: 0.04  (was 0.31 when it fired)  threshold: 0.1'
    >>> describe_resolution(0.31, None, 0.1)
    'value now: n/a (not measured in the latest window)  (was 0.31 when it fired)  threshold: 0.1'
    >>> describe_resolution(None, None, None) is None
    True
    """
    if fired is None and current is None and threshold is None:
        return None
    now = _num(current) if current is not None else "n/a (not measured in the latest window)"
    return f"value now: {now}  (was {_num(fired)} when it fired)  threshold: {_num(threshold)}"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _window(start: datetime, end: datetime) -> str:
    def fmt(t: datetime) -> str:
        if t.tzinfo is not None:
            t = t.astimezone(timezone.utc)
        return t.strftime("%Y-%m-%d %H:%M")

    return f"{fmt(start)} → {fmt(end)} UTC"
