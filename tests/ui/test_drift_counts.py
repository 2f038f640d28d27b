"""The model page's drifted-window counts are the corrected verdicts of the results API.

Both are read over HTTP from the same real server (the demo's three weeks, on each backend):
the page's drift table, and ``GET /v1/models/{model}/results?kind=drift``. A window counts as
drifted when its multiple-testing-corrected verdict (``drifted_adjusted``, else ``drifted``
when the engine made no correction) says so — the verdict alerts and ``/metrics`` use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import httpx
from tests.ui.conftest import Demo, Watched

#: The name the model page gives the prediction's drift row.
PREDICTION_ROW = "prediction"


class DriftTable(HTMLParser):
    """``#drift-table``'s rows: feature → the number in its "drifted windows" column."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self.highlighted: set[str] = set()
        self._in_table = False
        self._feature: str | None = None
        self._cell = -1
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and found.get("id") == "drift-table":
            self._in_table = True
        elif self._in_table and tag == "tr" and found.get("data-feature"):
            self._feature, self._cell = found["data-feature"], -1
            if "drifted" in (found.get("class") or "").split():
                self.highlighted.add(str(self._feature))
        elif self._feature is not None and tag == "td":
            self._cell += 1
            self._text = ""

    def handle_data(self, data: str) -> None:
        if self._feature is not None and self._cell == 1:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif self._feature is not None and tag == "td" and self._cell == 1:
            self.counts[self._feature] = int(self._text.strip())
        elif tag == "tr":
            self._feature = None


def page_counts(html: str) -> DriftTable:
    table = DriftTable()
    table.feed(html)
    assert table.counts, "the model page has no #drift-table rows"
    return table


def corrected(verdict: dict[str, Any]) -> bool:
    adjusted = verdict.get("drifted_adjusted")
    return bool(verdict["drifted"] if adjusted is None else adjusted)


def api_counts(ui: str, model: str) -> tuple[Counter[str], int]:
    """Per feature, the daily windows whose corrected verdict is drifted; and the windows."""
    response = httpx.get(f"{ui}/v1/models/{quote(model)}/results", params={"kind": "drift"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results and {r["window"] for r in results} == {"daily"}, "the demo analyses days"
    drifted: Counter[str] = Counter()
    for result in results:
        section = result["payload"]["drift"]
        rows = [(row["feature"], row) for row in section["features"]]
        if section.get("prediction") is not None:
            rows.append((PREDICTION_ROW, section["prediction"]))
        for feature, row in rows:
            drifted[feature] += corrected(row)
    return drifted, len(results)


def test_the_model_page_counts_the_windows_the_results_api_calls_drifted(
    ui: str, demo: Demo
) -> None:
    # 21 days: the whole replay (it ends a minute before the UI's clock).
    page = httpx.get(f"{ui}/models/{quote(demo.model)}", params={"range": "21d"})
    assert page.status_code == 200, page.text
    shown = page_counts(page.text)
    expected, windows = api_counts(ui, demo.model)
    assert windows >= 20
    assert set(shown.counts) == set(expected), (sorted(shown.counts), sorted(expected))
    assert shown.counts == dict(expected)
    assert sum(expected.values()) > 0, "the demo's drift incidents drift some windows"
    assert shown.highlighted == {f for f, n in expected.items() if n}


def test_the_browser_shows_the_same_drifted_window_counts(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    expected, _ = api_counts(ui, demo.model)
    w = watched()
    w.open(f"{ui}/models/{quote(demo.model)}?range=21d")
    rows = w.page.locator("#drift-table tbody tr")
    shown = {
        rows.nth(i).get_attribute("data-feature") or "": int(
            rows.nth(i).locator("td").nth(1).inner_text()
        )
        for i in range(rows.count())
    }
    assert shown == dict(expected)
    # The heatmap's ✕ marks are the same windows.
    marks = w.page.evaluate(
        "() => { const t = document.getElementById('drift-heatmap').data"
        ".find(d => d.name === 'drifted'); return t ? t.y : []; }"
    )
    assert Counter(str(y) for y in marks) == +expected, marks
    assert w.problems == []
