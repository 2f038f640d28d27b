"""The alert history of analysed windows: every condition a rule found in a computed window —
a past one during a backfill as well as the latest — is recorded in the store's alert log with
its window times, and so is its resolution (the next window of the same size in which it no
longer holds). Notifications are a separate matter: they go out for the alerts active now only.

Records carry ``"source": "analysis"`` (the notifier's own firing/sent/resolved records carry
no source). ``at`` is the end of the window the change was seen in, so the history reads in
window time, not in the time the analysis happened to run. A window computed again (late
labels) records a condition only if the log does not hold it for that window already.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keeneye.analysis.runner import JOB_KINDS, RunReport
from keeneye.notify.alert import Alert
from keeneye.notify.dispatcher import alert_history_entry
from keeneye.store.base import EventStore
from keeneye.store.records import StoredResult

SOURCE = "analysis"
#: How many existing records are read to skip conditions already recorded.
_LOOK_BACK = 100_000


@dataclass(frozen=True)
class WindowKey:
    """One computed window of one model."""

    model: str
    name: str
    start: datetime
    end: datetime


def computed_windows(results: Iterable[StoredResult]) -> list[WindowKey]:
    """The windows a run computed (from its marker results), oldest first."""
    markers = {kinds[0] for kinds in JOB_KINDS.values()}
    found = {
        WindowKey(r.model, str(r.payload.get("window")), r.window_start, r.window_end)
        for r in results
        if r.kind in markers
    }
    return sorted(found, key=lambda w: (w.model, w.name, w.start))


def firing_entries(report: RunReport) -> list[dict[str, Any]]:
    """One ``firing`` record per condition and window of the run."""
    name_of = {(w.model, w.start, w.end): w.name for w in computed_windows(report.computed)}
    return [
        _entry(a, "firing", name_of.get((a.model, a.window_start, a.window_end), ""))
        for a in report.alerts
    ]


def _entry(alert: Alert, status: str, window: str) -> dict[str, Any]:
    entry = alert_history_entry(alert, status, alert.window_end)
    entry["source"] = SOURCE
    entry["window"] = window
    return entry


def _identity(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        entry.get("key"),
        entry.get("window"),
        entry.get("status"),
        entry.get("severity"),
        entry.get("window_start"),
        entry.get("window_end"),
    )


def record_history(store: EventStore, report: RunReport) -> int:
    """Save the run's alert-history records not in the log yet; return how many were saved.

    ``firing``: every condition of every window the run computed. ``resolved``: a condition
    that held in the window before a computed one (found in this run or recorded by an
    earlier one) and no longer holds in it, at the end of that window.
    """
    windows = computed_windows(report.computed)
    if not windows:
        return 0
    fresh = firing_entries(report)
    saved = 0
    for model in sorted({w.model for w in windows}):
        logged = [
            r for r in store.list_alerts(model, limit=_LOOK_BACK) if r.get("source") == SOURCE
        ]
        known = {_identity(r) for r in logged}
        fired: dict[tuple[str, str, str], dict[str, Any]] = {}
        # Oldest first, so the newest record of a condition and window is the one kept.
        for r in [*reversed(logged), *(e for e in fresh if e["model"] == model)]:
            if r.get("status") == "firing":
                fired[(str(r.get("key")), str(r.get("window")), str(r.get("window_start")))] = r
        holding: dict[tuple[str, str], set[str]] = {}
        for e in fresh:
            if e["model"] == model:
                holding.setdefault((str(e["window"]), str(e["window_start"])), set()).add(
                    str(e["key"])
                )
        by_window: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        for (key, name, start), record in fired.items():
            by_window.setdefault((name, start), []).append((key, record))
        entries = [e for e in fresh if e["model"] == model]
        for w in (w for w in windows if w.model == model):
            before = (w.start - (w.end - w.start)).isoformat()
            now_holding = holding.get((w.name, w.start.isoformat()), set())
            for key, record in by_window.get((w.name, before), []):
                if key not in now_holding:
                    entries.append({**record, "status": "resolved", "at": w.end.isoformat()})
        for entry in entries:
            if _identity(entry) in known:
                continue
            store.save_alert(entry)
            known.add(_identity(entry))
            saved += 1
    return saved


def analysis_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the records of analysed windows (not the notifier's)."""
    return [r for r in records if r.get("source") == SOURCE]


__all__ = ["SOURCE", "analysis_records", "computed_windows", "firing_entries", "record_history"]
