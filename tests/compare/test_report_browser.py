"""The HTML drift report opened in a real headless Chromium with the network disabled.

Needs Debian's ``chromium`` and the ``playwright`` Python package (its own browsers are not
used: ``executable_path`` points at the system Chromium).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Request, Route, sync_playwright

from keeneye import compare

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(41)
    n = 2000
    ref = {
        "income": rng.lognormal(10, 0.5, n),
        "segment": rng.choice(["a", "b", "c"], n),
        "tenure <days>": rng.poisson(300, n),
        "comment": [f"comment number {i}" for i in range(n)],
    }
    cur = {
        "income": rng.lognormal(10.3, 0.5, n),
        "segment": rng.choice(["a", "b", "c", "d"], n),
        "tenure <days>": rng.poisson(300, n),
        "comment": [f"comment number {i}" for i in range(n)],
    }
    path = tmp_path_factory.mktemp("html_report") / "report.html"
    return compare(ref, cur).save_html(path)


def test_report_opens_offline_with_table_and_charts(report_file: Path) -> None:
    console: list[str] = []
    blocked: list[str] = []

    def block(route: Route, request: Request) -> None:
        blocked.append(request.url)
        route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
            context.route("http*://**/*", block)
            page = context.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(report_file.as_uri())
            page.wait_for_selector(".js-plotly-plot .trace.bars path", timeout=30_000)

            rows = page.locator("#feature-table tbody tr")
            assert rows.count() == 4
            assert rows.nth(0).get_attribute("data-feature") == "income"
            assert rows.nth(0).locator("td.state").inner_text() == "DRIFT"
            assert rows.nth(3).locator("td.state").inner_text() == "not tested"
            assert page.locator("#verdict").inner_text().startswith("DRIFT DETECTED")
            # one plotted chart per tested feature, each with a reference and a current trace
            assert page.locator(".js-plotly-plot").count() == 3
            assert page.locator(".js-plotly-plot .trace.bars").count() == 6
            assert page.locator(".js-plotly-plot .trace.bars path").count() > 20
            # a feature name with markup is shown as text, in the table and on the chart axis
            assert page.get_by_text("tenure <days>", exact=True).first.is_visible()
            ticks = page.locator("[id$='-segment-chart'] .xtick").all_text_contents()
            assert sorted(ticks) == ["a", "b", "c", "d"]  # the new category is drawn
            axis = page.locator("[id$='-tenure-days--chart'] .xtitle").text_content()
            assert axis == "tenure <days>"
            page.screenshot(path=str(report_file.with_suffix(".png")), full_page=True)
        finally:
            browser.close()
    assert console == []
    assert blocked == []
    assert report_file.with_suffix(".png").stat().st_size > 10_000
