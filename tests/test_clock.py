"""One clock everywhere: the same :class:`keeneye.clock.ManualClock` object drives the store,
the server and the analysis (each backend; the app over ASGI); a plain function is adapted."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from tests.conftest import Backend

from keeneye.analysis import clock as analysis_clock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.clock import Clock, FunctionClock, ManualClock, SystemClock, as_clock
from keeneye.config import Settings
from keeneye.server.app import create_app
from keeneye.store import open_store

T0 = datetime(2026, 5, 4, 9, tzinfo=timezone.utc)


def test_one_clock_protocol() -> None:
    manual = ManualClock(T0)
    assert analysis_clock.ManualClock is ManualClock and analysis_clock.Clock is Clock
    assert as_clock(manual) is manual
    assert isinstance(manual, Clock) and isinstance(SystemClock(), Clock)
    wrapped = as_clock(lambda: T0 + timedelta(hours=1))
    assert isinstance(wrapped, FunctionClock) and wrapped.now() == T0 + timedelta(hours=1)
    assert as_clock(None).now().tzinfo is timezone.utc


def test_store_server_and_analysis_read_the_same_clock(backend: Backend, tmp_path: Path) -> None:
    clock = ManualClock(T0)
    store = open_store(backend.location(tmp_path), clock=clock)
    try:
        app = create_app(Settings(analysis={"enabled": False}), store, clock=clock)
        clock.advance(hours=2)

        async def register() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.post("/v1/models/churn/versions", json={"version": "1"})

        response = asyncio.run(register())
        assert response.status_code in (200, 201), response.text
        (version,) = store.versions("churn")
        assert version.registered_at == T0 + timedelta(hours=2)
        clock.advance(hours=1)
        report = AnalysisRunner(store, Settings(), clock).run_once()
        assert report.ran_at == T0 + timedelta(hours=3)
    finally:
        store.close()
