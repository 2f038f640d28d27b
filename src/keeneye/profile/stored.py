"""Stored analysis results as typed :class:`~keeneye.profile.report.Report` objects.

The one place that turns a :class:`~keeneye.store.records.StoredResult` payload into a report
(either JSON format), and the one "latest reports" selection that the runner's active alerts,
``/metrics`` and the UI all use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from keeneye.profile.report import Report
from keeneye.store.base import EventStore
from keeneye.store.records import StoredResult

#: Result kinds read from the latest complete window of each size.
LATEST_KINDS = ("summary", "drift", "traffic", "estimated", "multivariate", "segments", "online")


#: Reports decoded lately, by the identity of their payload (a page reads each result's report
#: several times; the payload is kept so that its identity cannot be reused meanwhile).
_DECODED: OrderedDict[int, tuple[object, str, Report]] = OrderedDict()
_DECODED_SIZE = 4096
_DECODED_LOCK = threading.Lock()


def report_of(result: StoredResult) -> Report:
    """The report stored in ``result`` (format 1 or 2)."""
    key = id(result.payload)
    with _DECODED_LOCK:
        hit = _DECODED.get(key)
        if hit is not None and hit[0] is result.payload and hit[1] == result.kind:
            _DECODED.move_to_end(key)
            return hit[2]
    report = Report.from_payload(result.payload, result.kind)
    with _DECODED_LOCK:
        _DECODED[key] = (result.payload, result.kind, report)
        while len(_DECODED) > _DECODED_SIZE:
            _DECODED.popitem(last=False)
    return report


def window_of(result: StoredResult) -> str | None:
    """The window size (``hourly``/``daily``) a stored result was computed for."""
    window = result.payload.get("window")
    return None if window is None else str(window)


def select_latest(
    recent: Iterable[StoredResult],
    labelled: Iterable[StoredResult],
    lasts: dict[str, tuple[datetime, datetime]],
    *,
    min_labels: int,
) -> list[StoredResult]:
    """The results that describe "now": for each window size, the summary, drift and traffic
    results of its latest complete window ``lasts[size]``, and per version the newest
    performance result with at least ``min_labels`` labels (labels arrive late, the newest
    windows rarely have them). ``labelled`` comes in window order."""
    recent = list(recent)
    labelled = list(labelled)
    out: list[StoredResult] = []
    for name, (start, end) in lasts.items():
        for r in recent:
            if (
                r.window_start >= start
                and r.window_end <= end
                and r.kind in LATEST_KINDS
                and window_of(r) == name
            ):
                out.append(r)
        newest: dict[str, StoredResult] = {}
        for r in labelled:
            if window_of(r) != name or r.kind != "performance":
                continue
            section = report_of(r).performance
            if section is not None and section.labels >= max(min_labels, 1):
                newest[r.version] = r  # window order: the last one wins
        out.extend(newest.values())
    return out


def latest_spans(
    windows: Sequence[str], now: datetime, grace: timedelta
) -> dict[str, tuple[datetime, datetime]]:
    """``(start, end)`` of the latest complete window of each size at ``now``."""
    from keeneye.analysis.windows import window_at

    out: dict[str, tuple[datetime, datetime]] = {}
    for name in windows:
        current = window_at(name, now - grace)
        last = current.previous()  # calendar months differ in length
        out[name] = (last.start, last.end)
    return out


def latest_results(
    store: EventStore,
    model: str,
    windows: Sequence[str],
    now: datetime,
    *,
    grace: timedelta,
    recheck_days: float,
    min_labels: int,
) -> list[StoredResult]:
    """The stored results that describe ``model`` now (see :func:`select_latest`): two loads
    serve every window size — exactly the latest windows (a day's results without those of its
    hours), and the recent performance results."""
    if not windows:
        return []
    lasts = latest_spans(windows, now, grace)
    recent = store.load_results(
        model,
        start=min(s for s, _ in lasts.values()),
        end=max(e for _, e in lasts.values()),
        windows=list(lasts.values()),
    )
    labelled = store.load_results(
        model, kind="performance", start=now - timedelta(days=recheck_days)
    )
    return select_latest(recent, labelled, lasts, min_labels=min_labels)
