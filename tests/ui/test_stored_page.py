"""The model page is drawn from stored reports: its numbers equal the raw events' (DuckDB and
PostgreSQL, the demo's three weeks, over HTTP from a real server).

The page reads no raw event: the prediction histogram adds up the windows' stored bin counts,
the range's counts come from one bucketed count and the stored performance reports. Here the
raw rows are read by the test, through the store, to check them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

import httpx
import numpy as np
import pyarrow as pa
from tests.ui.conftest import Demo, Watched

from keeneye.stats.budget import DAY, AlertBudget


def _spec(html: str, chart_id: str) -> dict:  # type: ignore[type-arg]
    found = re.search(
        rf'<script type="application/json" id="{chart_id}-spec">(.*?)</script>', html, re.S
    )
    assert found, f"no {chart_id} on the page"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_the_prediction_histogram_adds_up_the_stored_windows_exactly(ui: str, demo: Demo) -> None:
    live = demo.store.model_summary(demo.model).live_version
    assert live is not None
    end = demo.result.scenario.end
    start = end - timedelta(days=14)
    page = httpx.get(
        f"{ui}/models/{quote(demo.model)}",
        params={"start": start.isoformat(), "end": end.isoformat(), "version": live},
    )
    assert page.status_code == 200, page.text
    spec = _spec(page.text, "prediction-chart")
    traces = {t["name"]: t for t in spec["data"]}
    current = traces["selected range"]
    centres, widths = np.asarray(current["x"]), np.asarray(current["width"])
    edges = np.append(centres - widths / 2, centres[-1] + widths[-1] / 2)
    # The raw predictions of that version in those (whole) days, binned [left, right).
    window = demo.store.read_window(demo.model, start, end, version=live, features=[])
    raw = window.events.column("prediction").cast(pa.float64()).to_numpy(zero_copy_only=False)
    raw = np.sort(raw[np.isfinite(raw)])
    assert raw.size > 1000
    counts = np.diff(np.searchsorted(raw, edges, side="left"))
    np.testing.assert_allclose(current["y"], counts / counts.sum(), rtol=0, atol=1e-12)
    # Nearly everything is drawn (the bins reach the range's 1st-99th percentiles).
    assert counts.sum() >= 0.98 * raw.size


def test_the_range_counts_are_the_stored_ones(ui: str, demo: Demo) -> None:
    end = demo.result.scenario.end
    start = end - timedelta(days=7)
    page = httpx.get(
        f"{ui}/models/{quote(demo.model)}",
        params={"start": start.isoformat(), "end": end.isoformat()},
    )
    assert page.status_code == 200, page.text
    found = re.search(r'id="range-counts">(\d+) predictions, (\d+) labels in range<', page.text)
    assert found, "no range counts on the page"
    window = demo.store.read_window(demo.model, start, end, features=[])
    labels = window.events.column("label").drop_null()
    assert (int(found.group(1)), int(found.group(2))) == (window.events.num_rows, len(labels))


def _latest_budget(ui: str, model: str) -> dict:  # type: ignore[type-arg]
    response = httpx.get(f"{ui}/v1/models/{quote(model)}/results", params={"kind": "drift"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    latest = max(results, key=lambda r: r["window_start"])
    return latest["payload"]["drift"]["alert_budget"]  # type: ignore[no-any-return]


def test_the_page_shows_the_expected_false_alerts_per_month(ui: str, demo: Demo) -> None:
    budget = _latest_budget(ui, demo.model)
    # The default budget: one false alert per model and quarter at the daily cadence.
    assert budget["expected_false_alerts_per_month"] == AlertBudget().expected_per_month(DAY)
    page = httpx.get(f"{ui}/models/{quote(demo.model)}", params={"range": "21d"})
    assert page.status_code == 200, page.text
    found = re.search(r'id="expected-false-alerts">([^<]+)</b>', page.text)
    assert found, "no expected false alerts on the page"
    assert found.group(1) == f"{budget['expected_false_alerts_per_month']:.3g}" == "0.333"
    assert "Expected false drift alerts per month at daily windows" in page.text


def test_the_browser_renders_the_expected_false_alerts(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    w = watched()
    w.open(f"{ui}/models/{quote(demo.model)}?range=21d")
    text = w.page.locator("#alert-budget").inner_text()
    assert "Expected false drift alerts per month at daily windows: 0.333" in text, text
    assert "1 per 91.31 days" in text, text
    assert w.problems == []
