"""The UI tests' real things: the demo's store (one replay per session and backend: DuckDB and
PostgreSQL), a real uvicorn server serving it on a free 127.0.0.1 port, and Debian's headless
Chromium driven by Playwright.

Chromium comes from Debian (``scripts/system-deps`` lists it; installed here when missing);
Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, Request, Route, sync_playwright
from pydantic import SecretStr
from tests._postgres import PostgresServer
from tests.conftest import BACKEND_NAMES, Backend, free_port

from keeneye.config import Settings
from keeneye.demo import DemoOptions, DemoResult, demo_settings, run_demo
from keeneye.demo.scenario import MODEL
from keeneye.server.app import create_app
from keeneye.store import EventStore, open_store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ui"
TOKEN = "ui-s3cret"


def ensure_chromium() -> str:
    """Debian's chromium, installed once when missing (as ``scripts/system-deps`` does)."""
    if not Path(CHROMIUM).exists():
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
            check=True,
            timeout=1200,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    assert Path(CHROMIUM).exists(), "chromium is not installed: run scripts/system-deps"
    return CHROMIUM


@dataclass
class Demo:
    result: DemoResult
    store: EventStore
    settings: Settings
    now: datetime  # the clock the UI reads: just after the replay's last window completed

    model: str = MODEL


@pytest.fixture(scope="session", params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend in turn, for the whole session (the demo is replayed once per backend):
    overrides the per-test ``backend`` of ``tests/conftest.py`` for the UI tests."""
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return Backend("postgresql", lambda _directory: server.create_database())
    return Backend("duckdb", lambda directory: f"duckdb://{directory / 'demo.duckdb'}")


@pytest.fixture(scope="session")
def demo(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    location = backend.location(tmp_path_factory.mktemp(f"ui-demo-{backend.name}"))
    # daily windows only: the demo's default (hourly and daily) replays for minutes
    result = run_demo(DemoOptions(store=location, port=0, seed=0, daily_only=True))
    store = open_store(location)
    settings = demo_settings(Settings(), location, "http://127.0.0.1", daily_only=True)
    now = result.scenario.end + timedelta(minutes=1, seconds=1)
    try:
        yield Demo(result=result, store=store, settings=settings, now=now)
    finally:
        store.close()


@dataclass
class Served:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def serve(app: Any) -> Served:
    """The app on a real uvicorn server on a free loopback port (bounded readiness poll)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return Served(f"http://127.0.0.1:{port}", server, thread)


def _app(demo: Demo, token: SecretStr | None) -> Any:
    server = demo.settings.server.model_copy(update={"token": token})
    settings = demo.settings.model_copy(update={"server": server})
    return create_app(settings, demo.store, clock=lambda: demo.now)


@pytest.fixture(scope="session")
def ui(demo: Demo) -> Iterator[str]:
    served = serve(_app(demo, None))
    yield served.url
    served.stop()


@pytest.fixture(scope="session")
def secured_ui(demo: Demo) -> Iterator[str]:
    served = serve(_app(demo, SecretStr(TOKEN)))
    yield served.url
    served.stop()


# Module scope, not session: while Playwright's sync API runs, its event loop is the main
# thread's running loop, and a later test's asyncio.run() would fail.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Watched:
    """A page whose console errors, page errors, failed and refused requests are recorded."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def open(self, url: str) -> Any:
        response = self.page.goto(url)
        self.page.wait_for_function(
            "document.body && document.body.dataset.chartsReady === 'true'", timeout=30_000
        )
        return response

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def watched(browser: Browser) -> Iterator[Callable[[], Watched]]:
    contexts = []

    def make() -> Watched:
        # A fresh context = a fresh profile (no cookies, no cache) per page under test.
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        w = Watched(page)

        def only_local(route: Route, request: Request) -> None:
            if request.url.startswith(("http://127.0.0.1:", "data:")):
                route.continue_()
            else:  # no CDN, no network: the UI must work offline
                w.problems.append(f"off-server request: {request.url}")
                route.abort()

        context.route("**/*", only_local)
        page.on(
            "console",
            lambda m: (
                w.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: w.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: w.problems.append(f"failed: {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: w.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
        )
        return w

    yield make
    for context in contexts:
        context.close()
