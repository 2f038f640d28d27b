"""The UI's search page on the OpenSearch event log, in headless Chromium: events of a model,
version and time range filtered by a feature value or the prediction, each with its label."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import sync_playwright
from tests.ui.conftest import CHROMIUM_ARGS, ensure_chromium, serve

from keeneye.config import Settings
from keeneye.server.app import create_app
from keeneye.store import LabelEvent, PredictionEvent, open_store
from keeneye.store.base import EventStore

DAY = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, opensearch_url: str) -> Iterator[EventStore]:
    url = f"opensearch://{opensearch_url.split('://')[1]}?namespace=u{uuid.uuid4().hex[:8]}"
    opened = open_store(url, rest=str(tmp_path / "rest.duckdb"))
    plans = ["basic", "pro", "team"]
    opened.write_predictions(
        "churn",
        [
            PredictionEvent(
                f"e{i:03d}",
                "2" if i % 2 else "1",
                DAY + timedelta(minutes=i),
                {"age": float(20 + i), "plan": plans[i % 3]},
                "yes" if i % 5 == 0 else "no",
            )
            for i in range(60)
        ],
    )
    opened.write_labels(
        "churn", [LabelEvent(f"e{i:03d}", "yes", DAY + timedelta(days=1)) for i in range(0, 60, 4)]
    )
    yield opened
    opened.close()


def test_search_page_filters_by_feature_and_prediction_with_labels(
    store: EventStore, tmp_path: Path
) -> None:
    app = create_app(Settings(), store, clock=lambda: DAY + timedelta(days=2))
    served = serve(app)
    problems: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.on(
                    "console",
                    lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
                )
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.on(
                    "response",
                    lambda r: (
                        problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None
                    ),
                )
                base = f"{served.url}/models/churn/search?"
                span = {"start": "2026-06-01T00:00", "end": "2026-06-01T02:00"}
                page.goto(base + urlencode({**span, "feature": "plan", "value": "pro"}))
                rows = page.locator("#search-results tbody tr")
                ids = [rows.nth(i).get_attribute("data-event") for i in range(rows.count())]
                expected = [f"e{i:03d}" for i in reversed(range(60)) if i % 3 == 1]
                assert ids == expected
                # labels joined: e004 is labelled, e001 is not
                page.goto(base + urlencode({**span, "prediction": "yes", "version": "1"}))
                rows = page.locator("#search-results tbody tr")
                found = {
                    rows.nth(i).get_attribute("data-event"): rows.nth(i)
                    .locator("td.label")
                    .inner_text()
                    for i in range(rows.count())
                }
                assert set(found) == {f"e{i:03d}" for i in range(0, 60, 10)}
                assert found["e020"] == '"yes"' and found["e010"] == "–"
                # the form drives the same search
                page.select_option("#search-feature", "age")
                page.fill("#search-value", "31")
                page.fill("#search-prediction", "")
                page.fill("#search-version", "")
                page.click("#search-submit")
                page.wait_for_url("**feature=age**")
                assert (
                    page.locator("#search-results tbody tr").get_attribute("data-event") == "e011"
                )
                page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
            finally:
                browser.close()
    finally:
        served.stop()
    assert problems == []
