"""Notifications: alert records, delivery through apprise, deduplication and cooldown."""

from keeneye.notify.alert import Alert, AlertStatus, Severity

__all__ = ["Alert", "AlertStatus", "Severity"]
