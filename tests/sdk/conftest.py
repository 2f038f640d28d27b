"""Fixtures of the SDK tests: a fresh Prometheus registry and a URL where no collector listens."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from prometheus_client import CollectorRegistry


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def dead_url() -> Iterator[str]:
    """A 127.0.0.1 URL where connections are refused (the collector is down).

    The port stays bound (without listening) for the whole test, so nothing else can take it.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


class Collector:
    """A real collector app served by uvicorn in a thread on 127.0.0.1 (its store is ours)."""

    #: The ingestion routers only: the SDK's contract is with them.
    ROUTERS = ("keeneye.server.model_routes", "keeneye.server.ingest_routes")

    def __init__(
        self,
        store_path: Path | str,
        *,
        port: int = 0,
        token: str | None = None,
        max_batch_events: int = 10_000,
        wrap: Callable[[Any], Any] | None = None,
    ) -> None:
        from keeneye.config import ServerSettings, Settings
        from keeneye.server.app import create_app
        from keeneye.store import open_store

        self.store = open_store(store_path)  # a DuckDB file, or any store URL
        settings = Settings(
            server=ServerSettings(
                store=str(store_path), token=token, max_batch_events=max_batch_events
            )
        )
        app: Any = create_app(settings, self.store, router_modules=list(self.ROUTERS))
        if wrap is not None:  # e.g. to make the collector behave like an older release
            app = wrap(app)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:  # bounded readiness poll
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("collector did not start within 20 s")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(20)
        self.store.close()


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    c = Collector(tmp_path / "events.duckdb")
    yield c
    c.stop()


@pytest.fixture
def start_collector(tmp_path: Path) -> Iterator[Callable[..., Collector]]:
    started: list[Collector] = []

    def start(**kw: object) -> Collector:
        c = Collector(tmp_path / f"events{len(started)}.duckdb", **kw)  # type: ignore[arg-type]
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()
