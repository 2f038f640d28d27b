"""Weekly (ISO weeks) and monthly (calendar) windows, configured per model: the runner computes
exactly those windows, each over exactly its rows, and the drift level follows the window's
length through the alert budget."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import Backend

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.analysis.windows import complete_windows, window_at, window_length, windows_for
from keeneye.baseline import register_baseline
from keeneye.config import AnalysisSettings, ConfigError, Settings, load_settings
from keeneye.profile.stored import report_of
from keeneye.store import open_store

from .conftest import write_day

UTC = timezone.utc


def test_weekly_and_monthly_boundaries() -> None:
    wed = datetime(2026, 2, 25, 13, tzinfo=UTC)
    week = window_at("weekly", wed)
    assert (week.start, week.end) == (
        datetime(2026, 2, 23, tzinfo=UTC),
        datetime(2026, 3, 2, tzinfo=UTC),
    )
    assert week.start.weekday() == 0
    feb = window_at("monthly", wed)
    assert (feb.start, feb.end) == (
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    dec = window_at("monthly", datetime(2025, 12, 31, 23, tzinfo=UTC))
    assert dec.following().start == datetime(2026, 1, 1, tzinfo=UTC)
    assert dec.following().previous() == dec
    months = list(
        complete_windows(
            "monthly", datetime(2025, 11, 15, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
        )
    )
    assert [m.start.month for m in months] == [11, 12, 1, 2]
    assert [m.length.days for m in months] == [30, 31, 31, 28]
    with pytest.raises(ValueError, match="monthly"):
        window_length("fortnightly")


def test_per_model_windows_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "keeneye.yaml"
    cfg.write_text(
        "analysis:\n  windows: [daily]\n  model_windows:\n    churn: [weekly, monthly]\n"
    )
    analysis = load_settings(cfg).analysis
    assert windows_for(analysis, "churn") == ["weekly", "monthly"]
    assert windows_for(analysis, "fraud") == ["daily"]
    with pytest.raises(ConfigError, match="model_windows"):
        load_settings(None, analysis={"model_windows": {"churn": ["fortnightly"]}})


def test_runner_computes_weekly_and_monthly_windows(backend: Backend, tmp_path: Path) -> None:
    start = datetime(2026, 1, 26, tzinfo=UTC)  # a Monday; five weeks into early March
    clock = ManualClock(start)
    store = open_store(backend.location(tmp_path), clock=clock.now)
    try:
        rng = np.random.default_rng(5)
        baseline = {
            "age": rng.normal(40, 10, 3000),
            "plan": rng.choice(["basic", "pro", "team"], 3000, p=[0.5, 0.3, 0.2]).astype(object),
        }
        register_baseline(store, "churn", "1", baseline, now=clock.now())
        register_baseline(store, "fraud", "1", baseline, now=clock.now())
        per_day = {}
        for d in range(35):
            day = start + timedelta(days=d)
            n = 20 + d
            per_day[day] = n
            write_day(store, "churn", day, n, rng=rng)
            write_day(store, "fraud", day, 10, rng=rng)
        clock.set(start + timedelta(days=35, hours=1))
        settings = Settings(
            analysis=AnalysisSettings.model_validate(
                {"windows": ["daily"], "model_windows": {"churn": ["weekly", "monthly"]}}
            )
        )
        AnalysisRunner(store, settings, clock).run_once()
        traffic = store.load_results("churn", kind="traffic")
        sections = {id(r): report_of(r).traffic for r in traffic}
        got = {(r.payload["window"], r.window_start): sections[id(r)].events for r in traffic}
        weeks = {k: v for k, v in got.items() if k[0] == "weekly"}
        months = {k: v for k, v in got.items() if k[0] == "monthly"}
        assert not [k for k in got if k[0] == "daily"]  # churn has its own windows
        assert len(weeks) == 5
        for (_, ws), events in weeks.items():
            assert ws.weekday() == 0
            assert events == sum(
                n for day, n in per_day.items() if ws <= day < ws + timedelta(days=7)
            )
        # January (from the 26th) and February are complete at March 2nd, 01:00
        assert sorted(months) == [
            ("monthly", datetime(2026, 1, 1, tzinfo=UTC)),
            ("monthly", datetime(2026, 2, 1, tzinfo=UTC)),
        ]
        feb = months[("monthly", datetime(2026, 2, 1, tzinfo=UTC))]
        assert feb == sum(n for day, n in per_day.items() if day.month == 2)
        # a week is compared with the week before only; a month with nothing
        week_results = [r for r in traffic if r.payload["window"] == "weekly"]
        assert all(set(sections[id(r)].compared) == {"week"} for r in week_results)
        monthly = [r for r in traffic if r.payload["window"] == "monthly"]
        assert all(dict(sections[id(r)].compared) == {} for r in monthly)
        # the drift level of a window follows its length: budget / windows per quarter
        drift = {r.payload["window"]: r for r in store.load_results("churn", kind="drift")}
        weekly_budget = report_of(drift["weekly"]).drift.alert_budget
        assert weekly_budget.window_level == pytest.approx(7 / 91.3125)
        feb_drift = [
            r
            for r in store.load_results("churn", kind="drift")
            if r.payload["window"] == "monthly" and r.window_start.month == 2
        ]
        feb_budget = report_of(feb_drift[0]).drift.alert_budget
        assert feb_budget.window_level == pytest.approx(28 / 91.3125)
        fraud = store.load_results("fraud", kind="traffic")
        assert {r.payload["window"] for r in fraud} == {"daily"}
        assert len(fraud) == 35
    finally:
        store.close()
