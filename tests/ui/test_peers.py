"""The model page in headless Chromium shows the estimated performance (estimate, band, alert
limit, realized value once labels land) and the multivariate drift of each window, with the
numbers the stored results hold; on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from tests._peer_worlds import classifier_rows, write_labels, write_window
from tests.conftest import Backend
from tests.ui.conftest import Served, Watched, serve

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.server.app import create_app
from keeneye.store import EventStore, open_store

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
DAY = timedelta(days=1)
DAYS, SHIFT_FROM, LABELLED = 8, 5, 4


def world(rng: np.random.Generator, n: int, shifted: bool) -> dict[str, np.ndarray]:
    """The classifier's inputs narrowed (CBPE) and two more features whose correlation flips
    (multivariate drift) when ``shifted``."""
    rows = classifier_rows(rng, n, spread=0.35 if shifted else 1.0)
    rho = -0.8 if shifted else 0.8
    a = rng.normal(size=n)
    rows["a"], rows["b"] = a, rho * a + 0.6 * rng.normal(size=n)
    # segments: feature c moves in the trial plan only
    plan = rng.choice(["basic", "pro", "trial"], n, p=[0.6, 0.25, 0.15])
    rows["plan"] = plan.astype(object)
    rows["c"] = rng.normal(size=n) + np.where((plan == "trial") & shifted, 1.2, 0.0)
    return rows


@dataclass
class PeersSite:
    url: str
    store: EventStore
    now: datetime


@pytest.fixture(scope="module")
def site(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PeersSite]:
    store = open_store(backend.location(tmp_path_factory.mktemp(f"peers-{backend.name}")))
    clock = ManualClock(START)
    rng = np.random.default_rng(5)
    register_baseline(store, "clf", "1", world(rng, 4000, False), now=START)
    store.set_live_version("clf", "1", START)
    for d in range(DAYS):
        rows = world(rng, 400, d >= SHIFT_FROM)
        pairs = write_window(
            store, "clf", START + d * DAY, DAY, rows, ("x1", "x2", "a", "b", "plan", "c"),
            prefix=f"d{d}",
            probabilities=True,
        )  # fmt: skip
        if d < LABELLED:
            write_labels(store, "clf", pairs, START + (d + 1) * DAY)
    now = START + DAYS * DAY + timedelta(minutes=5)
    clock.set(now)
    settings = Settings(
        analysis={
            "windows": ["daily"],
            "enabled": False,
            "estimate_performance": ["*"],
            "multivariate": ["*"],
            "segments": {"*": ["plan"]},
            "segment_top_k": 2,
            "online": {"*": ["error", "x1"]},
        }
    )
    AnalysisRunner(store, settings, clock).run_once()
    served: Served = serve(create_app(settings, store, clock=lambda: now))
    try:
        yield PeersSite(served.url, store, now)
    finally:
        served.stop()
        store.close()


def test_model_page_shows_estimates_and_multivariate_drift(
    site: PeersSite, watched: Callable[[], Watched]
) -> None:
    w = watched()
    w.open(f"{site.url}/models/clf?range=21d")
    traces = w.page.locator("#estimate-chart").evaluate(
        "e => e.data.map(t => ({name: t.name, x: t.x, y: t.y}))"
    )
    by_name = {t["name"]: t for t in traces if t["name"]}
    assert {"estimated accuracy", "realized accuracy", "accuracy band",
            "accuracy alert limit", "estimated roc_auc"} <= set(by_name)  # fmt: skip
    stored = sorted(
        (r for r in site.store.load_results("clf", kind="estimated")),
        key=lambda r: r.window_start,
    )
    sections = [report_of(r).estimated for r in stored]
    assert len(sections) == DAYS
    values = [s.metrics["accuracy"].value for s in sections if s is not None]
    assert by_name["estimated accuracy"]["y"] == pytest.approx(values)
    realized = by_name["realized accuracy"]["y"]
    assert all(v is not None for v in realized[:LABELLED])
    assert all(v is None for v in realized[LABELLED:])  # no labels yet: the estimate alone
    # the table: the shifted windows' estimates are marked as below the baseline's range
    flagged = w.page.locator('#estimate-table tr.drifted[data-metric="accuracy"]')
    windows = {flagged.nth(i).get_attribute("data-window") for i in range(flagged.count())}
    assert windows == {(START + d * DAY).isoformat() for d in range(SHIFT_FROM, DAYS)}
    # multivariate: both tests flag the flipped windows, with the stored statistic
    rows = w.page.locator('#multivariate-table tr.drifted[data-method="domain_classifier"]')
    windows = {rows.nth(i).get_attribute("data-window") for i in range(rows.count())}
    assert windows == {(START + d * DAY).isoformat() for d in range(SHIFT_FROM, DAYS)}
    names = w.page.locator("#multivariate-chart").evaluate("e => e.data.map(t => t.name)")
    assert {"pca_reconstruction", "domain_classifier"} <= set(names)
    assert w.page.locator("#estimate-chart .main-svg").count() > 0  # drawn by plotly
    w.shot("model-peers")
    assert w.problems == []


def test_model_page_shows_the_segments_that_drive_a_drift(
    site: PeersSite, watched: Callable[[], Watched]
) -> None:
    from keeneye.server.ui.peer_views import drivers, segment_rows

    w = watched()
    w.open(f"{site.url}/models/clf?range=21d")
    expected = drivers(segment_rows(site.store.load_results("clf", kind="segments")))
    assert expected, "the shifted windows have segments that drifted"
    shown = w.page.locator("#segment-drivers .segment-driver")
    assert [shown.nth(i).get_attribute("data-segment") for i in range(shown.count())] == [
        f"{d.column}={d.value}" for d in expected
    ]
    trial = next(d for d in expected if d.value == "other")  # trial: beyond the top 2 plans
    assert "c" in trial.features and trial.drift_windows == DAYS - SHIFT_FROM
    assert all("c" not in d.features for d in expected if d.value != "other")
    assert (
        "c"
        in shown.nth([f"{d.column}={d.value}" for d in expected].index("plan=other")).inner_text()
    )
    flagged = w.page.locator('#segment-table tr.drifted[data-segment="plan=other"]')
    assert flagged.count() == min(4, DAYS - SHIFT_FROM)  # the table lists the newest 4 windows
    w.shot("model-segments")
    assert w.problems == []


def test_model_page_lists_the_online_detections(
    site: PeersSite, watched: Callable[[], Watched]
) -> None:
    w = watched()
    w.open(f"{site.url}/models/clf?range=21d")
    stored = {
        (r.window_start.isoformat(), x.stream, x.method): x
        for r in site.store.load_results("clf", kind="online")
        if (section := report_of(r).online) is not None
        for x in section.results
    }
    rows = w.page.locator("#online-table tbody tr")
    assert rows.count() == len(stored) == DAYS * 2 * 3  # 8 windows x 2 streams x 3 detectors
    # the narrowed x1 (from day 5 on) is a change in the x1 stream for ADWIN and Page-Hinkley
    for i in range(rows.count()):
        row = rows.nth(i)
        key = (
            str(row.get_attribute("data-window")),
            str(row.get_attribute("data-stream")),
            str(row.get_attribute("data-method")),
        )
        flagged = "drifted" in (row.get_attribute("class") or "")
        assert flagged == bool(stored[key].detections), key
    assert w.problems == []
