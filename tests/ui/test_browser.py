"""The web UI in a real headless Chromium over the demo's three weeks of data.

Every page loads without console errors or failed requests (and without leaving the server:
charts come from the plotly JavaScript the UI serves); the demo's drifted features are
highlighted; the open alert is listed; the time-range picker changes what is shown and its
state is in the URL. Screenshots go to ``artifacts/ui/``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import parse_qs, quote, urlparse

import pytest
from tests.ui.conftest import Demo, Watched

from keeneye.demo.scenario import Incident


def drift_incidents(demo: Demo) -> list[tuple[Incident, str]]:
    """The demo's injected feature drifts, from its own plan."""
    return [
        (incident, expected.subject)
        for incident in demo.result.scenario.incidents
        for expected in incident.expected
        if expected.rule == "feature_drift"
    ]


def open_alert_keys(demo: Demo) -> set[str]:
    """Keys whose latest state change in the store's history is ``firing``."""
    latest: dict[str, str] = {}
    for record in demo.store.list_alerts(demo.model, limit=100_000):  # newest first
        if record["status"] in ("firing", "resolved"):
            latest.setdefault(record["key"], record["status"])
    return {key for key, status in latest.items() if status == "firing"}


def drifted_rows(w: Watched) -> set[str]:
    rows = w.page.locator("#drift-table tbody tr.drifted")
    return {rows.nth(i).get_attribute("data-feature") or "" for i in range(rows.count())}


def heatmap_columns(w: Watched) -> int:
    return int(w.page.evaluate("document.getElementById('drift-heatmap').data[0].x.length"))


PAGES = [
    ("fleet", "/?range=21d"),
    ("model-21d", "/models/{model}?range=21d"),
    ("model-default", "/models/{model}"),
    ("model-v2", "/models/{model}?range=7d&version=2"),
    ("feature-drifted", "/models/{model}/features/{feature}?range=21d"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[n for n, _ in PAGES])
def test_every_page_loads_clean(
    name: str, path: str, ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    feature = drift_incidents(demo)[0][1]
    w = watched()
    response = w.open(ui + path.format(model=quote(demo.model), feature=quote(feature)))
    assert response.status == 200
    charts = w.page.locator("[data-chart]")
    assert charts.count() >= 1
    assert w.page.locator("[data-chart][data-rendered='true']").count() == charts.count()
    assert w.page.locator(".js-plotly-plot").count() == charts.count()
    shot = w.shot(name)
    assert shot.stat().st_size > 10_000
    assert w.problems == []


def test_the_fleet_page_lists_the_model_with_its_open_alert(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    expected = open_alert_keys(demo)
    assert expected, "the demo ends with an open alert"
    w = watched()
    w.open(f"{ui}/?range=21d")
    row = w.page.locator(f"#fleet-table tr[data-model='{demo.model}']")
    assert row.count() == 1
    assert row.get_attribute("data-health") in ("warning", "alert")
    summary = demo.store.model_summary(demo.model)
    assert row.locator("td").nth(2).inner_text() == summary.live_version
    counts = demo.store.count_events(demo.model, demo.now - timedelta(days=21), demo.now)
    assert int(row.locator(".events-in-range").inner_text()) == sum(counts["events"].to_pylist())
    # The sparkline draws hourly counts over the whole range.
    spark = row.locator("[data-chart]").evaluate("e => e.data[0].y")
    assert len(spark) in (21 * 24, 21 * 24 + 1) and sum(spark) >= sum(counts["events"].to_pylist())
    rules = {key.split("/")[2] for key in expected}
    text = row.locator(".open-alerts").inner_text()
    assert all(rule in text for rule in rules), (rules, text)
    assert w.problems == []


def test_the_model_page_highlights_the_drifted_feature_and_lists_the_open_alert(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    drifted = {feature for _, feature in drift_incidents(demo)}
    w = watched()
    w.open(f"{ui}/models/{quote(demo.model)}?range=21d")
    assert drifted <= drifted_rows(w)
    features = set(demo.store.feature_types(demo.model))
    clean = sorted(features - drifted)
    assert not set(clean) & drifted_rows(w), "a clean feature is highlighted"
    callout = w.page.locator("#drifted-features a.drifted-feature")
    assert drifted <= {callout.nth(i).get_attribute("data-feature") for i in range(callout.count())}
    # In the heatmap the drifted features' names are marked, the clean ones are not.
    ticks = w.page.locator("#drift-heatmap .ytick").all_text_contents()
    for feature in drifted:
        assert f"⚠ {feature}" in ticks, ticks
    assert clean[0] in ticks
    # The drifted feature's row stands out (the highlight is visible, not only a class).
    row = w.page.locator(f"#drift-table tr[data-feature='{sorted(drifted)[0]}'] td").first
    colour = row.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    # The open alert is listed as open; the resolved ones as resolved.
    open_rows = w.page.locator("#alerts-table tr[data-status='open']")
    shown = {open_rows.nth(i).get_attribute("data-key") for i in range(open_rows.count())}
    assert shown == open_alert_keys(demo)
    assert w.page.locator("#open-alerts li").count() == len(shown)
    assert w.page.locator("#alerts-table tr[data-status='resolved']").count() > 3
    w.shot("model-drift-highlighted")
    assert w.problems == []


def test_the_model_page_charts_hold_the_stored_numbers(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    w = watched()
    w.open(f"{ui}/models/{quote(demo.model)}?range=7d")
    traces = w.page.locator("#traffic-chart").evaluate(
        "e => e.data.map(t => ({name: t.name, x: t.x, y: t.y}))"
    )
    assert [t["name"] for t in traces] == ["events", "a day earlier", "a week earlier"]
    first = datetime.fromisoformat(traces[0]["x"][0])
    for trace, back in zip(traces, (0, 1, 7), strict=True):
        shift = timedelta(days=back)
        counts = demo.store.count_events(demo.model, first - shift, demo.now - shift)
        assert sum(trace["y"]) == sum(counts["events"].to_pylist()), trace["name"]
    assert len(traces[0]["x"]) == 7 * 24 + 1  # hours, aligned, the partial last one included
    names = w.page.locator("#prediction-chart").evaluate("e => e.data.map(t => t.name)")
    assert names == [f"baseline (v{demo.store.model_summary(demo.model).live_version})",
                     "selected range"]  # fmt: skip
    names = w.page.locator("#performance-chart").evaluate("e => e.data.map(t => t.name)")
    assert "accuracy" in names and "label coverage" in names
    assert w.page.locator("#versions-table tbody tr").count() == len(
        demo.store.version_history(demo.model)
    )
    assert w.problems == []


def test_the_time_range_picker_changes_what_is_shown(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    incident, feature = drift_incidents(demo)[0]
    w = watched()
    w.open(f"{ui}/models/{quote(demo.model)}?range=21d")
    assert feature in drifted_rows(w)
    assert heatmap_columns(w) == 21
    label_21d = w.page.locator("#range-label").inner_text()

    # A preset: the last 7 days no longer hold the early drift.
    with w.page.expect_navigation():
        w.page.locator("#range-picker a[data-range='7d']").click()
    w.page.wait_for_function("document.body.dataset.chartsReady === 'true'")
    assert parse_qs(urlparse(w.page.url).query)["range"] == ["7d"]
    assert w.page.locator("#range-picker a.active[data-range='7d']").count() == 1
    assert w.page.locator("#range-label").inner_text() != label_21d
    assert heatmap_columns(w) == 7
    assert feature not in drifted_rows(w)

    # A custom range around the incident, through the form: the state goes into the URL.
    start = incident.start - timedelta(days=1)
    end = incident.end + timedelta(days=1)
    w.page.fill("#custom-range input[name='start']", start.strftime("%Y-%m-%dT%H:%M"))
    w.page.fill("#custom-range input[name='end']", end.strftime("%Y-%m-%dT%H:%M"))
    with w.page.expect_navigation():
        w.page.locator("#custom-range button[type='submit']").click()
    w.page.wait_for_function("document.body.dataset.chartsReady === 'true'")
    query = parse_qs(urlparse(w.page.url).query)
    assert query["start"][0].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    assert feature in drifted_rows(w)
    days = (end.date() - start.date()).days + (1 if end.time() != end.time().min else 0)
    assert heatmap_columns(w) == days
    w.shot("model-custom-range")

    # The link is shareable: a fresh browser profile opening it sees the same state.
    shared = w.page.url
    other = watched()
    other.open(shared)
    assert drifted_rows(other) == drifted_rows(w)
    assert (
        other.page.locator("#range-label").inner_text()
        == w.page.locator("#range-label").inner_text()
    )
    assert w.problems == [] and other.problems == []


def test_the_feature_page_shows_the_drift_against_the_baseline(
    ui: str, demo: Demo, watched: Callable[[], Watched]
) -> None:
    incident, feature = drift_incidents(demo)[0]
    start, end = incident.start.date(), (incident.end + timedelta(days=1)).date()
    w = watched()
    w.open(
        f"{ui}/models/{quote(demo.model)}/features/{feature}"
        f"?start={start.isoformat()}T00:00&end={end.isoformat()}T00:00"
    )
    assert w.page.locator("#feature-name").inner_text() == feature
    hist = w.page.locator("#histogram-chart")
    names = hist.evaluate("e => e.data.map(t => t.name)")
    assert names[0].startswith("baseline") and names[1] == "selected range"
    assert w.page.locator("#tests-table tbody tr.drifted").count() >= 1
    assert w.page.locator("#stats-table tbody tr").count() == (end - start).days
    w.shot("feature-custom-range")
    assert w.problems == []
