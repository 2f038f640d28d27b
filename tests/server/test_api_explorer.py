"""``/docs`` is a working API explorer on a closed network: Swagger UI's assets come from the
keeneye server itself (the swagger-ui-bundle package), never a CDN. Headless Chromium loads it
with every non-loopback request blocked and must show the API's operations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Request, Route, sync_playwright
from tests.ui.conftest import CHROMIUM_ARGS, Served, ensure_chromium, serve

from keeneye.config import Settings
from keeneye.server.app import create_app
from keeneye.store.duckdb import DuckDBStore


@pytest.fixture
def served() -> Iterator[Served]:
    store = DuckDBStore(":memory:")
    running = serve(create_app(Settings(), store))
    yield running
    running.stop()
    store.close()


def test_docs_render_with_the_network_off(served: Served) -> None:
    attempted: list[str] = []
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()

            def only_loopback(route: Route, request: Request) -> None:
                if request.url.startswith((served.url + "/", "data:")):
                    route.continue_()
                else:
                    attempted.append(request.url)
                    route.abort()

            context.route("**/*", only_loopback)
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
            response = page.goto(f"{served.url}/docs")
            assert response is not None and response.status == 200
            page.wait_for_selector(".opblock", timeout=30_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            title = page.locator(".info .title").inner_text()
        finally:
            browser.close()
    assert attempted == [], attempted
    assert problems == [], problems
    assert title.startswith("keeneye")
    flat = {text.replace("\u200b", "").strip() for text in paths}
    for path in (
        "/v1/models/{model}/predictions",
        "/v1/models/{model}/labels",
        "/v1/models/{model}/results",
        "/v1/models/{model}/versions/{version}/baseline",
        "/v1/alerts",
    ):
        assert path in flat, sorted(flat)
