"""``/v1/health`` (the truth), ``/v1/health/live`` and ``/v1/health/ready``; free disk space.

Writes that fail with a storage fault mark the collector ``degraded`` (with the reason) until a
write succeeds again; while degraded, a health check probes the store with a tiny write at
most once a second, so recovery shows without waiting for traffic. Free space on the store's
file system is the gauge ``keeneye_store_disk_free_bytes`` and a warning below
``server.min_free_disk_bytes``.

Everything here lives on ``app.state.health``, created by :func:`install` inside
``create_app``; routes read it with ``getattr`` so an app built without it still answers.

>>> state = HealthState(store_path=None, min_free_bytes=0)
>>> state.write_failed("disk full"); state.report().status
'degraded'
>>> state.write_ok(); state.report().status
'ok'
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from keeneye import __version__
from keeneye.errors import StoreError

log = logging.getLogger("keeneye.server.health")

#: How often a degraded collector may probe its store from a health check.
PROBE_INTERVAL_SECONDS = 1.0
#: A failed client write keeps the status degraded this long unless a write succeeds: a
#: tiny probe may fit where a real batch does not (a nearly full disk). After that, with no
#: traffic (a readiness probe took the collector out of service), the probe decides.
FAILURE_MEMORY_SECONDS = 30.0


class HealthOut(BaseModel):
    """The collector's health: ``ok``, or ``degraded`` with the reasons."""

    status: str = Field(description="ok | degraded (writes are failing)")
    version: str
    reasons: list[str] = Field(default_factory=list, description="Why the status is degraded.")
    warnings: list[str] = Field(default_factory=list, description="e.g. low free disk space.")
    disk_free_bytes: int | None = Field(
        None, description="Free space on the store's file system (embedded store only)."
    )


@dataclass(frozen=True)
class HealthReport:
    status: str
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    disk_free_bytes: int | None


def _store_dir(path: str | None) -> Path | None:
    if not path or path == ":memory:" or "://" in path:
        return None
    return Path(path).resolve().parent


@dataclass
class HealthState:
    """Write failures seen by the API, and the store's disk."""

    store_path: str | None
    min_free_bytes: int
    probe: Callable[[], None] | None = None
    failure_memory: float = FAILURE_MEMORY_SECONDS
    _failure: str | None = None
    _since: float | None = None
    _failed_at: float = 0.0
    _last_probe: float = 0.0
    _warned: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write_failed(self, reason: str) -> None:
        with self._lock:
            if self._failure is None:
                self._since = time.monotonic()
                log.warning("store writes are failing: %s", reason)
            self._failure = reason
            self._failed_at = time.monotonic()

    def write_ok(self) -> None:
        if self._failure is None:
            return
        with self._lock:
            if self._failure is not None:
                log.warning(
                    "store writes succeed again after %.1f s",
                    time.monotonic() - (self._since or time.monotonic()),
                )
            self._failure = None
            self._since = None

    def disk_free(self) -> int | None:
        directory = _store_dir(self.store_path)
        if directory is None:
            return None
        try:
            return shutil.disk_usage(directory).free
        except OSError:
            return None

    def maybe_probe(self) -> None:
        """While degraded and no client write failed lately, try a tiny write (rate-limited):
        success clears the failure."""
        if self._failure is None or self.probe is None:
            return
        now = time.monotonic()
        if now - self._failed_at < self.failure_memory:
            return
        if now - self._last_probe < PROBE_INTERVAL_SECONDS:
            return
        self._last_probe = now
        try:
            self.probe()
        except StoreError as exc:
            self.write_failed(str(exc))
        else:
            self.write_ok()

    def report(self) -> HealthReport:
        free = self.disk_free()
        warnings: list[str] = []
        if free is not None and free < self.min_free_bytes:
            warnings.append(
                f"free disk space of the store is {free} bytes, below "
                f"server.min_free_disk_bytes={self.min_free_bytes}; writes fail when it runs out"
            )
            if not self._warned:
                log.warning(warnings[-1])
                self._warned = True
        else:
            self._warned = False
        failure = self._failure
        reasons = (f"store writes are failing: {failure}",) if failure is not None else ()
        return HealthReport(
            status="degraded" if reasons else "ok",
            reasons=reasons,
            warnings=tuple(warnings),
            disk_free_bytes=free,
        )


class _DiskCollector(Collector):
    def __init__(self, state: HealthState) -> None:
        self._state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        free = self._state.disk_free()
        if free is not None:
            yield GaugeMetricFamily(
                "keeneye_store_disk_free_bytes",
                "Free bytes on the file system that holds the embedded store.",
                value=free,
            )
        yield GaugeMetricFamily(
            "keeneye_store_writes_failing",
            "1 while store writes fail (the collector reports degraded health), else 0.",
            value=0 if self._state.report().status == "ok" else 1,
        )


def install(app: FastAPI, store: Any, min_free_bytes: int) -> HealthState:
    """Create ``app.state.health`` and its metrics (called by ``create_app``)."""
    probe = getattr(store, "probe_write", None)
    state = HealthState(
        store_path=getattr(store, "path", None),
        min_free_bytes=min_free_bytes,
        probe=probe if callable(probe) else None,
    )
    app.state.health = state
    registry: CollectorRegistry | None = getattr(app.state, "registry", None)
    if registry is not None:
        registry.register(_DiskCollector(state))
    return state


router = APIRouter(prefix="/v1", tags=["health"])


async def _report(request: Request) -> HealthReport:
    state: HealthState | None = getattr(request.app.state, "health", None)
    if state is None:
        return HealthReport("ok", (), (), None)
    await run_in_threadpool(state.maybe_probe)
    return state.report()


def _body(report: HealthReport) -> dict[str, Any]:
    return {
        "status": report.status,
        "version": __version__,
        "reasons": list(report.reasons),
        "warnings": list(report.warnings),
        "disk_free_bytes": report.disk_free_bytes,
    }


@router.get("/health", response_model=HealthOut, summary="Health (the truth)")
async def health(request: Request) -> dict[str, Any]:
    """Always open (no token), always 200: ``ok``, or ``degraded`` with the reasons while
    store writes fail; warnings (low disk) come with either."""
    return _body(await _report(request))


@router.get("/health/live", response_model=HealthOut, summary="Liveness")
def live() -> dict[str, Any]:
    """Always open, always 200 while the process serves requests (do not restart on 503s)."""
    return _body(HealthReport("ok", (), (), None))


@router.get(
    "/health/ready",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "degraded: store writes fail"}},
    summary="Readiness",
)
async def ready(request: Request) -> Any:
    """Always open: 200 when writes succeed, 503 (with the reasons) while they fail."""
    report = await _report(request)
    if report.status != "ok":
        return JSONResponse(_body(report), status_code=503, headers={"Retry-After": "5"})
    return _body(report)


def note_write_ok(request: Request) -> None:
    """Tell the health state a write succeeded (no-op on an app built without it)."""
    state: HealthState | None = getattr(request.app.state, "health", None)
    if state is not None:
        state.write_ok()
