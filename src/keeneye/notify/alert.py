"""The alert record that rules produce and notifiers deliver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class Severity(str, Enum):
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(str, Enum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    """One condition that a rule found in one window.

    ``key`` identifies the condition across evaluations (same model, version, rule and subject,
    e.g. the feature name), so that notifiers can deduplicate, cool down and send "resolved".

    >>> a = Alert(model="churn", version="3", rule="feature_drift", subject="age",
    ...           severity=Severity.WARNING, summary="feature 'age' drifted",
    ...           window_start=datetime(2026, 1, 1), window_end=datetime(2026, 1, 1, 1))
    >>> a.key
    'churn/3/feature_drift/age'
    """

    model: str
    version: str
    rule: str
    subject: str
    severity: Severity
    summary: str
    window_start: datetime
    window_end: datetime
    value: float | None = None
    threshold: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    status: AlertStatus = AlertStatus.FIRING

    @property
    def key(self) -> str:
        return condition_key(self.model, self.version, self.rule, self.subject)


def condition_key(model: str, version: str, rule: str, subject: str) -> str:
    """The key of a condition (and of the alerts raised for it), e.g.
    ``'churn/3/feature_drift/age'``."""
    return f"{model}/{version}/{rule}/{subject}"
