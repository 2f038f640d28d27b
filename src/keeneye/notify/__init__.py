"""Notifications: alert records, delivery through apprise, deduplication and cooldown."""

from keeneye.notify.alert import Alert, AlertStatus, Severity
from keeneye.notify.channels import (
    AppriseChannel,
    CallbackChannel,
    Channel,
    DeliveryError,
    LogChannel,
)
from keeneye.notify.dispatcher import DeliveryStats, Notifier, alert_history_entry
from keeneye.notify.message import Message, MessageKind, format_message

__all__ = [
    "Alert",
    "AlertStatus",
    "AppriseChannel",
    "CallbackChannel",
    "Channel",
    "DeliveryError",
    "DeliveryStats",
    "LogChannel",
    "Message",
    "MessageKind",
    "Notifier",
    "Severity",
    "alert_history_entry",
    "format_message",
]
