"""Analysis runs on demand as background jobs of the server — a backfill of any past range —
with their progress, so ``keeneye analyze --url`` can draw a progress bar while the server
(the one writer of its store) does the work.

``POST /v1/analysis/jobs`` starts a run over ``since``/``until`` (``backfill``: from each
model's first event) and answers 202 with the job; ``GET /v1/analysis/jobs/{id}`` reports
``done``/``total`` windows and, once finished, the run's summary or its error. Runs queue
behind each other (the service runs one at a time).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, Field, field_validator

from keeneye.server.auth import require_token
from keeneye.server.errors import ApiError
from keeneye.server.schemas import ERROR_RESPONSES, JobOut

log = logging.getLogger("keeneye.analysis")

router = APIRouter(prefix="/v1", tags=["analysis"], dependencies=[Depends(require_token)])

#: Finished jobs kept for their status (the oldest are forgotten first).
_KEEP = 100


class JobRequest(BaseModel):
    """What to analyse: windows from ``since`` to ``until`` (ISO 8601 with offset)."""

    since: datetime | None = Field(None, description="only windows from this time")
    until: datetime | None = Field(None, description="only windows up to this time")
    backfill: bool = Field(False, description="reach back to each model's first event")
    models: list[str] | None = Field(None, description="only these models")

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        # pydantic would read a number as seconds since 1970; the document says ISO 8601 text
        if value is not None and not isinstance(value, (str, datetime)):
            raise ValueError(
                f"expected an ISO 8601 time such as 2026-01-31T00:00:00Z, got "
                f"{type(value).__name__}"
            )
        return value


@dataclass
class Job:
    """One analysis run and its progress."""

    id: str
    request: JobRequest
    state: str = "queued"  # queued | running | done | failed
    done: int = 0
    total: int | None = None
    current: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self) -> dict[str, Any]:
        with self.lock:
            return {
                "id": self.id,
                "state": self.state,
                "done": self.done,
                "total": self.total,
                "current": self.current,
                "since": None if self.request.since is None else self.request.since.isoformat(),
                "until": None if self.request.until is None else self.request.until.isoformat(),
                "backfill": self.request.backfill,
                "result": self.result,
                "error": self.error,
            }


class JobRegistry:
    """The server's analysis jobs (in memory: a restarted server forgets them, not their
    results, which are in the store)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def add(self, request: JobRequest) -> Job:
        job = Job(uuid.uuid4().hex[:16], request)
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
            for old in finished[: max(0, len(finished) - _KEEP)]:
                self._jobs.pop(old.id, None)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)


def _check_time(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ApiError(
            400, "invalid_request", f"{name}: {value.isoformat()!r} needs a UTC offset (+00:00)"
        )


def _run(app: FastAPI, job: Job) -> None:
    from keeneye.server.analysis_routes import report_summary

    service = app.state.analysis

    def progress(done: int, total: int, what: str) -> None:
        with job.lock:
            job.state = "running"
            job.done, job.total, job.current = done, total, what

    try:
        report = service.run(
            since=job.request.since,
            until=job.request.until,
            backfill=job.request.backfill,
            models=job.request.models,
            progress=progress,
        )
    except Exception as exc:
        log.exception("analysis job %s failed", job.id)
        with job.lock:
            job.state = "failed"
            job.error = f"{type(exc).__name__}: {exc}"
        return
    summary = report_summary(report)
    with job.lock:
        job.state = "done"
        job.result = summary


@router.post(
    "/analysis/jobs",
    status_code=202,
    responses=ERROR_RESPONSES,
    summary="Start an analysis run (a backfill of any range)",
    response_model=JobOut,
)
def post_job(request: Request, body: JobRequest | None = None) -> dict[str, Any]:
    """Analyse the windows from ``since`` to ``until`` in the background (``backfill``: from
    each model's first event); poll ``GET /v1/analysis/jobs/{id}`` for its progress."""
    body = body or JobRequest(since=None, until=None, backfill=False, models=None)
    _check_time("since", body.since)
    _check_time("until", body.until)
    if body.since is not None and body.until is not None and body.until <= body.since:
        raise ApiError(400, "invalid_request", "until must be later than since")
    app = request.app
    if getattr(app.state, "analysis", None) is None:
        raise ApiError(503, "unavailable", "this server runs no analysis (analysis routes off)")
    job = app.state.analysis_jobs.add(body)
    thread = threading.Thread(target=_run, args=(app, job), name=f"keeneye-job-{job.id}")
    thread.daemon = True
    thread.start()
    return job.view()


@router.get(
    "/analysis/jobs/{job_id}",
    responses=ERROR_RESPONSES,
    summary="An analysis job",
    response_model=JobOut,
)
def get_job(job_id: str, request: Request) -> dict[str, Any]:
    """The job's state (queued, running, done, failed), windows done of the total, and its
    result (windows, alerts found, alerts active now) or error once finished."""
    job = request.app.state.analysis_jobs.get(job_id)
    if job is None:
        raise ApiError(
            404, "not_found", f"no analysis job {job_id!r}; start one with POST /v1/analysis/jobs"
        )
    return job.view()


def setup(app: FastAPI) -> None:
    app.state.analysis_jobs = JobRegistry()


__all__ = ["Job", "JobRegistry", "JobRequest", "router", "setup"]
