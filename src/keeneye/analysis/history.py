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

from collections.abc import Iterable, Sequence
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


def history_entries(report: RunReport) -> list[dict[str, Any]]:
    """The alert-log records of a run: one ``firing`` record per condition and window it was
    found in, and one ``resolved`` record where the next window of that size (computed in the
    same run) no longer has it."""
    windows = computed_windows(report.computed)
    name_of = {(w.model, w.start, w.end): w.name for w in windows}
    by_window: dict[tuple[str, str, datetime], dict[str, Alert]] = {}
    out: list[dict[str, Any]] = []
    for alert in report.alerts:
        name = name_of.get((alert.model, alert.window_start, alert.window_end), "")
        by_window.setdefault((alert.model, name, alert.window_start), {})[alert.key] = alert
        out.append(_entry(alert, "firing", name))
    computed = {(w.model, w.name, w.start) for w in windows}
    for (model, name, start), alerts in by_window.items():
        for alert in alerts.values():
            following = (model, name, alert.window_end)
            if following not in computed:
                continue  # the next window was not computed in this run: nothing is known
            if alert.key in by_window.get(following, {}):
                continue
            end = alert.window_end + (alert.window_end - start)
            out.append(_entry(alert, "resolved", name, at=end))
    return out


def _entry(alert: Alert, status: str, window: str, at: datetime | None = None) -> dict[str, Any]:
    entry = alert_history_entry(alert, status, at or alert.window_end)
    entry["source"] = SOURCE
    entry["window"] = window
    return entry


def _identity(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (
        entry.get("key"),
        entry.get("status"),
        entry.get("severity"),
        entry.get("window_start"),
        entry.get("window_end"),
    )


def record_history(store: EventStore, report: RunReport) -> int:
    """Save the run's alert-history records not in the log yet; return how many were saved."""
    entries = history_entries(report)
    if not entries:
        return 0
    saved = 0
    for model in sorted({str(e["model"]) for e in entries}):
        known = {
            _identity(r)
            for r in store.list_alerts(model, limit=_LOOK_BACK)
            if r.get("source") == SOURCE
        }
        for entry in entries:
            if entry["model"] != model or _identity(entry) in known:
                continue
            store.save_alert(entry)
            known.add(_identity(entry))
            saved += 1
    return saved


def analysis_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the records of analysed windows (not the notifier's)."""
    return [r for r in records if r.get("source") == SOURCE]


__all__ = ["SOURCE", "analysis_records", "computed_windows", "history_entries", "record_history"]
