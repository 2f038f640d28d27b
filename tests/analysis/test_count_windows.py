"""Count-based windows (every N predictions, per model): the runner cuts them in event-time
order, computes the same jobs on exactly their rows, keeps a cut window's span when a late
event lands in it, and the results API lists them (each backend; real store, real runner, the
app over ASGI)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import numpy as np
import pytest

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import ConfigError, Settings, load_settings
from keeneye.profile.stored import report_of, window_of
from keeneye.server.app import create_app
from keeneye.server.ui import views
from keeneye.server.ui.timerange import QueryError, TimeRange, parse_range
from keeneye.store import EventStore
from keeneye.store.records import PredictionEvent

from .conftest import MONDAY, write_day

N = 500


def _settings() -> Settings:
    return Settings(analysis={"windows": ["daily"], "count_windows": {"churn": N}})


def _count_results(store: EventStore, kind: str) -> list:  # type: ignore[type-arg]
    return [r for r in store.load_results("churn", kind=kind) if window_of(r) == "count"]


def test_count_windows_hold_every_n_predictions(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(11)
    baseline = {"age": rng.normal(40, 10, 3000), "plan": rng.choice(["basic", "pro"], 3000)}
    register_baseline(store, "churn", "1", baseline, now=clock.now())
    events = []
    for d in range(3):  # 400 a day: 1200 events, two full windows of 500
        events += write_day(store, "churn", MONDAY + timedelta(days=d), 400, rng=rng)
    clock.set(MONDAY + timedelta(days=3, hours=1))
    runner = AnalysisRunner(store, _settings(), clock)
    runner.run_once()

    times = sorted(e.timestamp for e in events)
    summaries = _count_results(store, "summary")
    assert [report_of(r).summary.events for r in summaries] == [N, N]  # type: ignore[union-attr]
    spans = [(r.window_start, r.window_end) for r in summaries]
    assert spans[0] == (times[0], times[N - 1] + timedelta(microseconds=1))
    assert spans[1] == (spans[0][1], times[2 * N - 1] + timedelta(microseconds=1))
    # The same jobs as for time windows: drift against the baseline, performance, traffic.
    drift = _count_results(store, "drift")
    assert [report_of(r).drift.n_current for r in drift] == [N, N]  # type: ignore[union-attr]
    assert len(_count_results(store, "performance")) == 2
    # Daily windows are computed as before.
    daily = [r for r in store.load_results("churn", kind="summary") if window_of(r) == "daily"]
    assert len(daily) == 3

    # A late event inside the first window joins it: same span, one more event.
    late = PredictionEvent("late-1", "1", times[10], {"age": 41.0, "plan": "pro"}, 0.4)
    store.write_predictions("churn", [late])
    # 400 more events complete a third window.
    events += write_day(store, "churn", MONDAY + timedelta(days=3), 400, rng=rng)
    clock.set(MONDAY + timedelta(days=4, hours=1))
    runner.run_once()
    summaries = _count_results(store, "summary")
    counts = [report_of(r).summary.events for r in summaries]  # type: ignore[union-attr]
    assert counts == [N + 1, N, N]
    assert [(r.window_start, r.window_end) for r in summaries][:2] == spans
    times = sorted(e.timestamp for e in events)  # without the late one
    assert summaries[2].window_end == times[3 * N - 1] + timedelta(microseconds=1)
    # A new runner (e.g. after a restart) finds the same windows and nothing to do.
    assert AnalysisRunner(store, _settings(), clock).run_once().windows == 0

    # The model page shows them (window=count): one heatmap column per count window.
    tr = TimeRange(MONDAY, MONDAY + timedelta(days=5), None, "count")
    page = views.model_page(store, _settings(), "churn", tr)
    assert page["windows"] == 3
    assert len(json.loads(page["charts"][3].spec)["data"][0]["x"]) == 3
    with pytest.raises(QueryError, match="window"):
        parse_range({"window": "count"}, clock.now(), ["daily"])
    assert parse_range({"window": "count"}, clock.now(), ["daily", "count"]).window == "count"

    # The results API lists them with their window name and span.
    app = create_app(_settings(), store, clock=clock.now)
    transport = httpx.ASGITransport(app=app)

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/v1/models/churn/results", params={"kind": "summary"})

    import asyncio

    response = asyncio.run(fetch())
    assert response.status_code == 200, response.text
    listed = [r for r in response.json()["results"] if r["window"] == "count"]
    assert [r["payload"]["summary"]["events"] for r in listed] == [N + 1, N, N]


def test_count_windows_setting_is_validated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "keeneye.yaml"
    cfg.write_text("analysis:\n  count_windows:\n    churn: 5000\n")
    assert load_settings(cfg).analysis.count_windows == {"churn": 5000}
    with pytest.raises(ConfigError, match="count_windows"):
        load_settings(None, analysis={"count_windows": {"churn": 0}})
