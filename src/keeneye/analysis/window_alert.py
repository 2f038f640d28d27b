"""One alert about one stored window: the shape every analysis rule raises
(:mod:`keeneye.analysis.rules` and :mod:`keeneye.analysis.peer_rules`)."""

from __future__ import annotations

from typing import Any

from keeneye.notify.alert import Alert, Severity
from keeneye.profile.report import Report
from keeneye.store.records import StoredResult


def window_alert(
    result: StoredResult,
    report: Report,
    rule: str,
    subject: str,
    summary: str,
    *,
    severity: Severity = Severity.WARNING,
    value: float | None = None,
    threshold: float | None = None,
    **details: Any,
) -> Alert:
    """An alert of ``rule`` on ``subject`` for ``result``'s window; the summary names the model,
    version and window, and ``details`` carry the window size and what the rule measured."""
    window = report.window or ""
    return Alert(
        model=result.model,
        version=result.version,
        rule=rule,
        subject=subject,
        severity=severity,
        summary=f"{result.model} v{result.version} ({window} window "
        f"{result.window_start.isoformat()}): {summary}",
        window_start=result.window_start,
        window_end=result.window_end,
        value=value,
        threshold=threshold,
        details={"window": window, **details},
    )
