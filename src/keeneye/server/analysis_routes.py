"""Analysis API: results per window, baseline upload, alert history, a run on demand — and
``setup(app)``, which registers the result gauges on ``/metrics`` and runs the analysis loop in
the app's lifespan (the embedded default of ``keeneye server``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from keeneye.analysis.runner import AnalysisRunner, RunReport
from keeneye.analysis.service import AnalysisService
from keeneye.baseline.register import read_upload, register_baseline
from keeneye.notify.alert import Alert
from keeneye.profile.report import SECTION_KINDS
from keeneye.profile.stored import report_of, window_of
from keeneye.server.auth import require_token
from keeneye.server.body import read_body
from keeneye.server.errors import ApiError
from keeneye.server.ingest import check_model_name
from keeneye.server.limits import check_version
from keeneye.server.result_metrics import ResultCollector
from keeneye.server.schemas import ERROR_RESPONSES
from keeneye.store.base import EventStore

router = APIRouter(prefix="/v1", tags=["analysis"], dependencies=[Depends(require_token)])

#: Result kinds the results endpoint serves.
RESULT_KINDS = ("traffic", "summary", "performance", "drift")


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
    "/models/{model}/results", responses=ERROR_RESPONSES, summary="Analysis results per window"
)
def get_results(
    model: str,
    request: Request,
    kind: str | None = Query(None, description=f"one of {', '.join(RESULT_KINDS)}"),
    version: str | None = Query(None, description="model version ('*' for model-level)"),
    start: str | None = Query(None, description="windows starting at or after (ISO 8601)"),
    end: str | None = Query(None, description="windows ending at or before (ISO 8601)"),
) -> dict[str, Any]:
    """Stored results of the statistics and drift jobs, oldest window first."""
    check_model_name(model)
    if kind is not None and kind not in RESULT_KINDS:
        raise ApiError(
            400,
            "invalid_request",
            f"kind: {kind!r} is unknown; use one of {', '.join(RESULT_KINDS)}",
        )
    start_at, end_at = _time("start", start), _time("end", end)
    store: EventStore = request.app.state.store
    store.model_summary(model)  # 404 for an unknown model
    results = store.load_results(model, kind=kind, version=version, start=start_at, end=end_at)
    return {
        "model": model,
        "results": [
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
            for r in results
            if r.kind in RESULT_KINDS
        ],
    }


async def _baseline(model: str, version: str, request: Request) -> dict[str, Any]:
    check_model_name(model)
    check_version(version, "version")
    body = await read_body(request, request.app.state.settings.server.max_body_bytes)
    table = read_upload(body, request.headers.get("content-type"))
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
)
async def post_baseline(model: str, version: str, request: Request) -> dict[str, Any]:
    """Same as ``PUT``."""
    return await _baseline(model, version, request)


@router.get("/alerts", responses=ERROR_RESPONSES, summary="Alert history")
def get_alerts(
    request: Request,
    model: str | None = Query(None, description="only this model"),
    limit: int = Query(100, ge=1, le=10_000, description="newest first, at most this many"),
) -> dict[str, Any]:
    """Every recorded alert state change (firing, resolved, sent, failed), newest first."""
    if model is not None:
        check_model_name(model)
    store: EventStore = request.app.state.store
    return {"alerts": store.list_alerts(model, limit=limit)}


@router.post("/analysis/run", responses=ERROR_RESPONSES, summary="Run the analysis now")
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
