"""Where notifications go: apprise URLs, the log, or any Python callable.

Every channel has a ``name`` (safe to print: no secrets) and a ``send(message)`` that returns on
success and raises :class:`DeliveryError` (with a redacted reason) on failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import apprise

from keeneye.errors import ConfigError, KeeneyeError
from keeneye.notify.message import Message
from keeneye.notify.redact import Redactor, apprise_log_filter, private_url

log = logging.getLogger("keeneye.notify")

_APPRISE_TYPES = {
    "critical": apprise.NotifyType.FAILURE,
    "warning": apprise.NotifyType.WARNING,
    "resolved": apprise.NotifyType.SUCCESS,
}


class DeliveryError(KeeneyeError):
    """A channel could not deliver a message; the message carries no secret."""


@runtime_checkable
class Channel(Protocol):
    """A destination for notifications."""

    @property
    def name(self) -> str:
        """A printable name without secrets."""
        ...

    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise :class:`DeliveryError`."""
        ...


class AppriseChannel:
    """One apprise URL (Slack, e-mail, Teams, PagerDuty, webhooks …) with bounded timeouts.

    >>> ch = AppriseChannel("jsons://user:s3cr3t@alerts.example.com/hook", timeout=5)
    >>> ch.name
    'jsons://user:****@alerts.example.com/****'
    >>> AppriseChannel("nonsense://x", timeout=5)
    Traceback (most recent call last):
    ...
    keeneye.errors.ConfigError: notify.urls: 'nonsense://****' is not an apprise URL ...
    """

    def __init__(self, url: str, *, timeout: float) -> None:
        self.redact = Redactor([url])
        apprise_log_filter().add(self.redact)
        self._name = private_url(url)
        self._apprise = apprise.Apprise()
        # apprise's own connect/read timeout options, unless the URL sets them itself; without
        # them an unreachable host could hold the delivery thread for minutes.
        if not self._apprise.add(_with_timeouts(url, timeout)):
            raise ConfigError(
                f"notify.urls: {self._name!r} is not an apprise URL apprise can use; see "
                "https://github.com/caronc/apprise/wiki for the formats"
            )

    @property
    def name(self) -> str:
        return self._name

    def send(self, message: Message) -> None:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            ok = self._apprise.notify(
                body=message.body,
                title=message.title,
                notify_type=_APPRISE_TYPES[message.level],
                body_format=apprise.NotifyFormat.TEXT,
            )
        if not ok:
            reason = " ".join(captured.getvalue().split()) or "apprise reported a failure"
            raise DeliveryError(f"{self._name}: {self.redact(reason)}")


class LogChannel:
    """Writes each notification to a logger (the demo's console, or a server's log)."""

    def __init__(self, logger: logging.Logger | None = None, *, name: str = "log") -> None:
        self._logger = logger or log
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def send(self, message: Message) -> None:
        level = logging.INFO if message.level == "resolved" else logging.WARNING
        self._logger.log(level, "%s\n%s", message.title, message.body)


class CallbackChannel:
    """Calls a Python function with each message; an exception it raises counts as a failure.

    >>> seen = []
    >>> ch = CallbackChannel(seen.append, name="mine")
    >>> ch.name
    'mine'
    """

    def __init__(self, callback: Callable[[Message], object], *, name: str = "callback") -> None:
        self._callback = callback
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def send(self, message: Message) -> None:
        try:
            self._callback(message)
        except Exception as exc:
            raise DeliveryError(f"{self._name}: {type(exc).__name__}: {exc}") from exc


def _with_timeouts(url: str, timeout: float) -> str:
    """Add apprise's ``cto`` (connect) and ``rto`` (read) timeout options when missing.

    >>> _with_timeouts("json://host/hook?rto=1", 5)
    'json://host/hook?rto=1&cto=5'
    """
    _, _, query = url.partition("?")
    given = {part.split("=", 1)[0] for part in query.split("&") if part}
    extra = [f"{key}={timeout:g}" for key in ("cto", "rto") if key not in given]
    if not extra:
        return url
    return url + ("&" if query else "?" if not url.endswith("?") else "") + "&".join(extra)
