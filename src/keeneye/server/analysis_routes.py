"""Analysis API: results per window, baseline upload, alert history, a run on demand — and
``setup(app)``, which registers the result gauges on ``/metrics`` and runs the analysis loop in
the app's lifespan (the embedded default of ``keeneye server``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, get_args

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from keeneye.analysis.runner import AnalysisRunner, RunReport
from keeneye.analysis.service import AnalysisService
from keeneye.baseline.register import read_upload, register_baseline
from keeneye.config import WindowName
from keeneye.notify.alert import Alert
from keeneye.profile.report import SECTION_KINDS
from keeneye.profile.stored import report_of, window_of
from keeneye.server.auth import require_token
from keeneye.server.body import read_body
from keeneye.server.errors import ApiError
from keeneye.server.ingest import check_model_name
from keeneye.server.limits import check_version
from keeneye.server.pagination import (
    DEFAULT_PAGE,
    MAX_PAGE,
    bad_cursor,
    decode_cursor,
    encode_cursor,
)
from keeneye.server.privacy import enforce_on_baseline
from keeneye.server.result_metrics import ResultCollector
from keeneye.server.schemas import (
    ERROR_RESPONSES,
    AlertsOut,
    BaselineOut,
    ResultsOut,
    RunSummaryOut,
)
from keeneye.store.base import EventStore

router = APIRouter(prefix="/v1", tags=["analysis"], dependencies=[Depends(require_token)])

#: Result kinds the results endpoint serves.
RESULT_KINDS = (
    "traffic",
    "summary",
    "performance",
    "drift",
    "estimated",
    "multivariate",
    "segments",
    "online",
)
#: Window sizes the ``window`` filters accept.
WINDOW_SIZES: tuple[str, ...] = get_args(WindowName)


def _time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(
            400,
            "invalid_request",
            f"{name}: {value!r} is not an ISO 8601 time, e.g. 2026-11-27T00:00:00+00:00",
        ) from exc
    if parsed.tzinfo is None:
        raise ApiError(400, "invalid_request", f"{name}: {value!r} needs a UTC offset (+00:00)")
    return parsed


@router.get(
    "/models/{model}/results",
    responses=ERROR_RESPONSES,
    summary="Analysis results per window",
    response_model=ResultsOut,
)
def get_results(
    model: str,
    request: Request,
    kind: str | None = Query(None, description=f"one of {', '.join(RESULT_KINDS)}"),
    version: str | None = Query(None, description="model version ('*' for model-level)"),
    window: str | None = Query(
        None, description=f"only this window size: {', '.join(WINDOW_SIZES)}"
    ),
    start: str | None = Query(None, description="windows starting at or after (ISO 8601)"),
    end: str | None = Query(None, description="windows ending at or before (ISO 8601)"),
    limit: int = Query(DEFAULT_PAGE, ge=1, le=MAX_PAGE, description="results per page"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
) -> dict[str, Any]:
    """Stored results of the statistics and drift jobs, oldest window first, a page at a
    time (follow ``next_cursor``)."""
    check_model_name(model)
    if kind is not None and kind not in RESULT_KINDS:
        raise ApiError(
            400,
            "invalid_request",
            f"kind: {kind!r} is unknown; use one of {', '.join(RESULT_KINDS)}",
        )
    _check_window(window)
    start_at, end_at = _time("start", start), _time("end", end)
    after: tuple[str, ...] | None = None
    if cursor is not None:
        key = decode_cursor(cursor)
        after = tuple(str(k) for k in key)
        try:
            resume = datetime.fromisoformat(after[0])
            _result_order(after)
        except (ValueError, IndexError):
            raise bad_cursor() from None
        if len(after) != 4 or None in (resume.tzinfo, datetime.fromisoformat(after[1]).tzinfo):
            raise bad_cursor()
        start_at = resume if start_at is None or resume > start_at else start_at
    store: EventStore = request.app.state.store
    store.model_summary(model)  # 404 for an unknown model
    results = store.load_results(model, kind=kind, version=version, start=start_at, end=end_at)
    page: list[dict[str, Any]] = []
    next_cursor: str | None = None
    for r in results:
        if r.kind not in RESULT_KINDS or (window is not None and window_of(r) != window):
            continue
        sort_key = (r.window_start.isoformat(), r.window_end.isoformat(), r.kind, r.version)
        if after is not None and _result_order(sort_key) <= _result_order(after):
            continue
        if len(page) == limit:
            next_cursor = encode_cursor(list(_last_key(page)))
            break
        page.append(
            {
                "version": r.version,
                "kind": r.kind,
                "window": window_of(r),
                "window_start": r.window_start.isoformat(),
                "window_end": r.window_end.isoformat(),
                "computed_at": r.computed_at.isoformat(),
                # Every report in the current format (REPORT_FORMAT), also those stored by an
                # earlier keeneye; other kinds (markers) as stored.
                "payload": report_of(r).to_payload() if r.kind in SECTION_KINDS else r.payload,
            }
        )
    return {"model": model, "results": page, "next_cursor": next_cursor}


def _result_order(key: tuple[str, ...]) -> tuple[datetime, datetime, str, str]:
    """The store's order of results: window start, window end, kind, version."""
    return (datetime.fromisoformat(key[0]), datetime.fromisoformat(key[1]), key[2], key[3])


def _last_key(page: list[dict[str, Any]]) -> tuple[str, str, str, str]:
    last = page[-1]
    return (last["window_start"], last["window_end"], last["kind"], last["version"])


def _check_window(window: str | None) -> None:
    if window is not None and window not in WINDOW_SIZES:
        raise ApiError(
            400,
            "invalid_request",
            f"window: {window!r} is unknown; use one of {', '.join(WINDOW_SIZES)}",
            {"field": "window"},
        )


async def _baseline(model: str, version: str, request: Request) -> dict[str, Any]:
    check_model_name(model)
    check_version(version, "version")
    body = await read_body(request, request.app.state.settings.server.max_body_bytes)
    table = read_upload(body, request.headers.get("content-type"))
    table = enforce_on_baseline(request.app.state.privacy.get(model), table)
    info = await run_in_threadpool(
        register_baseline,
        request.app.state.store,
        model,
        version,
        table,
        now=request.app.state.clock.now(),
    )
    return info.to_dict()


@router.put(
    "/models/{model}/versions/{version}/baseline",
    status_code=201,
    responses=ERROR_RESPONSES,
    summary="Register a version's baseline",
    response_model=BaselineOut,
)
async def put_baseline(model: str, version: str, request: Request) -> dict[str, Any]:
    """The training data of a version as Parquet (``application/vnd.apache.parquet``), Arrow
    IPC (``application/vnd.apache.arrow.stream``/``.file``) or JSON records; replaces an
    earlier baseline."""
    return await _baseline(model, version, request)


@router.post(
    "/models/{model}/versions/{version}/baseline",
    status_code=201,
    responses=ERROR_RESPONSES,
    summary="Register a version's baseline (POST)",
    response_model=BaselineOut,
)
async def post_baseline(model: str, version: str, request: Request) -> dict[str, Any]:
    """Same as ``PUT``."""
    return await _baseline(model, version, request)


@router.get("/alerts", responses=ERROR_RESPONSES, summary="Alert history", response_model=AlertsOut)
def get_alerts(
    request: Request,
    model: str | None = Query(None, description="only this model"),
    window: str | None = Query(
        None, description=f"only alerts of this window size: {', '.join(WINDOW_SIZES)}"
    ),
    limit: int = Query(100, ge=1, le=MAX_PAGE, description="newest first, at most this many"),
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
) -> dict[str, Any]:
    """Every recorded alert state change (firing, resolved, sent, failed), newest first, a
    page at a time (follow ``next_cursor``)."""
    if model is not None:
        check_model_name(model)
    _check_window(window)
    # The cursor: the ``at`` of the last record sent and how many records at that very time
    # were sent (several state changes share one evaluation time).
    before: str | None = None
    skip = 0
    if cursor is not None:
        key = decode_cursor(cursor)
        if len(key) != 2 or not isinstance(key[0], str) or not isinstance(key[1], int):
            raise bad_cursor()
        before, skip = str(key[0]), int(key[1])
    store: EventStore = request.app.state.store
    page: list[dict[str, Any]] = []
    fetch = limit + 1 + skip
    while True:
        records = store.list_alerts(model, limit=fetch)
        page, next_key = _alerts_page(records, before, skip, window, limit)
        if next_key is not None or len(records) < fetch:
            break
        fetch *= 4  # filtered out or skipped: read further back
    next_cursor = encode_cursor(list(next_key)) if next_key is not None else None
    return {"alerts": page, "next_cursor": next_cursor}


def _alerts_page(
    records: list[dict[str, Any]], before: str | None, skip: int, window: str | None, limit: int
) -> tuple[list[dict[str, Any]], tuple[str, int] | None]:
    """Up to ``limit`` records after the cursor ``(before, skip)`` — past every record newer
    than ``before`` and the first ``skip`` records at ``before`` — and the next cursor when
    more records follow."""
    page: list[dict[str, Any]] = []
    last: tuple[str, int] | None = None
    run_at, run = None, 0
    for record in records:
        at = str(record.get("at") or "")
        run = run + 1 if at == run_at else 1
        run_at = at
        if before is not None and (at > before or (at == before and run <= skip)):
            continue
        if window is not None and _alert_window(record) != window:
            continue
        if len(page) == limit:
            return page, last
        page.append(record)
        last = (at, run)
    return page, None


#: Window sizes by length in hours (a calendar month is 28 to 31 days).
_WINDOW_HOURS = {1: "hourly", 24: "daily", 168: "weekly"}


def _alert_window(record: dict[str, Any]) -> str | None:
    """The window size of an alert record, from its window's length."""
    try:
        start = datetime.fromisoformat(str(record.get("window_start")))
        end = datetime.fromisoformat(str(record.get("window_end")))
    except ValueError:
        return None
    hours = (end - start).total_seconds() / 3600
    if 28 * 24 <= hours <= 31 * 24:
        return "monthly"
    return _WINDOW_HOURS.get(round(hours)) if hours == round(hours) else None


@router.post(
    "/analysis/run",
    responses=ERROR_RESPONSES,
    summary="Run the analysis now",
    response_model=RunSummaryOut,
)
async def post_run(request: Request) -> dict[str, Any]:
    """Compute every due window now (at the server clock's time) and notify; returns what the
    run found. Useful after a backfill of events, and with an accelerated clock (the demo)."""
    service: AnalysisService = request.app.state.analysis
    report = await run_in_threadpool(service.run_now)
    return report_summary(report)


def report_summary(report: RunReport) -> dict[str, Any]:
    """A JSON summary of a run."""

    def alert(a: Alert) -> dict[str, Any]:
        return {
            "key": a.key,
            "rule": a.rule,
            "severity": a.severity.value,
            "summary": a.summary,
            "window_start": a.window_start.isoformat(),
            "window_end": a.window_end.isoformat(),
            "value": a.value,
            "threshold": a.threshold,
        }

    return {
        "ran_at": report.ran_at.isoformat(),
        "windows": report.windows,
        "results": len(report.computed),
        "alerts": [alert(a) for a in report.alerts],
        "active": [alert(a) for a in report.active],
    }


def setup(app: FastAPI) -> None:
    """Wire the analysis into the app: the runner and its loop (started with the app when
    ``analysis.enabled``), the notifier hand-off, and the result gauges on the registry."""
    settings = app.state.settings
    store: EventStore = app.state.store
    clock = app.state.clock
    runner = AnalysisRunner(store, settings, clock)
    notifier = getattr(app.state, "notifier", None)
    owns_notifier = notifier is None
    if notifier is None:
        from keeneye.notify import Notifier

        notifier = Notifier(settings.notify, store=store, public_url=settings.server.public_url)
        app.state.notifier = notifier

    def sink(alerts: Sequence[Alert], now: datetime, values: Mapping[str, float]) -> None:
        notifier.process(alerts, now, values)

    service = AnalysisService(runner, settings.analysis.interval_seconds, sink)
    app.state.analysis = service
    app.state.registry.register(
        ResultCollector(store, settings, clock, last_run=lambda: runner.last_run)
    )
    if settings.analysis.enabled:
        app.state.on_startup.append(service.start)
    app.state.on_shutdown.append(service.stop)
    if owns_notifier:
        app.state.on_shutdown.append(notifier.close)
