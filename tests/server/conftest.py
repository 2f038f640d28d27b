"""Fixtures of the collector tests: a real store (each backend in turn) and the real app,
called in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.conftest import Backend

from keeneye.config import Settings
from keeneye.server.app import create_app
from keeneye.store import EventStore, open_store

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
TOKEN = "s3cret-token"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Api:
    """A synchronous face on ``httpx.AsyncClient(transport=ASGITransport(app))``."""

    def __init__(self, app: FastAPI, token: str | None = None) -> None:
        self.app = app
        self.token = token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token is not None and "authorization" not in {k.lower() for k in headers}:
            headers["Authorization"] = f"Bearer {self.token}"

        async def call() -> httpx.Response:
            # raise_app_exceptions=False: a 500 must reach the test as the client sees it.
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://keeneye") as c:
                return await c.request(method, path, headers=headers, **kwargs)

        return asyncio.run(call())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(backend: Backend, tmp_path: Path, clock: Clock) -> Iterator[EventStore]:
    """A real store on each backend (DuckDB file, PostgreSQL database) in turn."""
    opened = open_store(backend.location(tmp_path), clock=clock)
    yield opened
    opened.close()


def make_settings(**server: Any) -> Settings:
    return Settings(server={"store": ":memory:", **server})


@pytest.fixture
def api(store: EventStore, clock: Clock) -> Api:
    return Api(create_app(make_settings(), store, clock=clock))


@pytest.fixture
def secured(store: EventStore, clock: Clock) -> Api:
    """An app that requires ``TOKEN``; the client sends it unless a test overrides the header."""
    return Api(create_app(make_settings(token=TOKEN), store, clock=clock), token=TOKEN)


def event(i: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": f"e{i}",
        "timestamp": (NOW + timedelta(seconds=i)).isoformat(),
        "inputs": {"age": 30 + i, "plan": "pro"},
        "prediction": 0.5,
    }
    body.update(overrides)
    return body
