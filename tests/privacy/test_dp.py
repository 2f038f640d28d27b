"""Differential-privacy noise: its distribution has the documented scale, the budget is split
as documented, and a window's published counts carry it (``keeneye.privacy.dp``)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline.register import register_baseline
from keeneye.config import DifferentialPrivacySettings, Settings
from keeneye.privacy.dp import Noiser, noise, noise_scale, privatize, window_rng
from keeneye.profile.report import (
    FeatureStats,
    Report,
    SummarySection,
    SummaryStats,
    TrafficSection,
)
from keeneye.profile.stored import report_of
from keeneye.store.duckdb import DuckDBStore
from keeneye.store.records import PredictionEvent

START = datetime(2026, 3, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize("epsilon", [0.1, 0.5, 1.0, 2.0])
def test_laplace_noise_has_scale_one_over_epsilon(epsilon: float) -> None:
    # one draw per seed over many seeds: the noise of independent windows
    draws = np.array(
        [noise(1, "laplace", epsilon, np.random.default_rng(seed))[0] for seed in range(4000)]
    )
    result = stats.kstest(draws, stats.laplace(loc=0, scale=1 / epsilon).cdf)
    assert result.pvalue > 0.001, result
    # and not some other scale: twice the documented scale is rejected
    wrong = stats.kstest(draws, stats.laplace(loc=0, scale=2 / epsilon).cdf)
    assert wrong.pvalue < 1e-6


@pytest.mark.parametrize(("epsilon", "delta"), [(0.5, 1e-6), (1.0, 1e-5)])
def test_gaussian_noise_has_the_classic_sigma(epsilon: float, delta: float) -> None:
    sigma = math.sqrt(2 * math.log(1.25 / delta)) / epsilon
    assert noise_scale("gaussian", epsilon, delta) == pytest.approx(sigma, rel=1e-12)
    draws = np.array(
        [noise(1, "gaussian", epsilon, np.random.default_rng(s), delta)[0] for s in range(4000)]
    )
    assert stats.kstest(draws, stats.norm(0, sigma).cdf).pvalue > 0.001


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="epsilon"):
        noise_scale("laplace", 0)
    with pytest.raises(ValueError, match="mechanism 'exp'"):
        noise_scale("exp", 1)
    with pytest.raises(ValueError, match="delta"):
        noise_scale("gaussian", 1, 2)


def report() -> Report:
    summary = SummaryStats(kind="categorical", count=900, missing=100, top=(("a", 0.6), ("b", 0.4)))
    return Report(
        traffic=TrafficSection(events=1000, by_version={"1": 700, "2": 300}),
        summary=SummarySection(
            events=1000,
            features={"plan": FeatureStats(kind="categorical", missing_ratio=0.1, summary=summary)},
        ),
    )


def test_off_by_default_changes_nothing() -> None:
    settings = DifferentialPrivacySettings()
    assert not settings.enabled
    r = report()
    assert privatize(r, settings, sections=2, stream="m/1/summary", start=START) is r


def test_counts_get_noise_of_the_split_budget() -> None:
    """The window's ε is split among 2 sections; the summary's share among its 1 + 2·features
    releases; traffic's share between its total and its histogram. The noise of the summary's
    event count over many seeds has scale (2 · 3) / ε."""
    epsilon = 1.0
    draws = []
    for seed in range(3000):
        settings = DifferentialPrivacySettings(enabled=True, epsilon=epsilon, seed=seed)
        noisy = privatize(report(), settings, sections=2, stream="m/1/summary", start=START)
        assert noisy.summary is not None and noisy.traffic is not None
        draws.append(noisy.summary.events - 1000)
        plan = noisy.summary.features["plan"]
        assert plan.summary is not None and plan.summary.count >= 0
        assert sum(share for _, share in plan.summary.top) <= 1.0 + 1e-9
    # rounding makes the draws integers: compare with the rounded Laplace (a discrete CDF), so
    # test the spread instead — the mean absolute deviation of Laplace(b) is b
    b = 2 * 3 / epsilon
    assert np.mean(np.abs(draws)) == pytest.approx(b, rel=0.06)
    assert abs(np.mean(draws)) < 4 * b * math.sqrt(2) / math.sqrt(len(draws))


def test_a_seed_makes_noise_repeatable_and_streams_differ() -> None:
    settings = DifferentialPrivacySettings(enabled=True, epsilon=0.5, seed=7)
    one = privatize(report(), settings, sections=2, stream="m/1/summary", start=START)
    two = privatize(report(), settings, sections=2, stream="m/1/summary", start=START)
    assert one == two
    a = window_rng(7, "m/1/summary", START).laplace(size=5)
    b = window_rng(7, "m/*/traffic", START).laplace(size=5)
    assert not np.allclose(a, b)


def test_noiser_clips_counts_at_zero() -> None:
    noiser = Noiser(
        DifferentialPrivacySettings(enabled=True, epsilon=0.01), np.random.default_rng(1)
    )
    section = noiser.traffic(TrafficSection(events=0, by_version={"1": 0}), 0.01)
    assert section.events >= 0 and section.by_version["1"] >= 0


def test_the_analysis_stores_noisy_counts(tmp_path: Path) -> None:
    """Through the analysis on a real store: each window's published counts are the exact
    ones plus noise of the documented scale, drawn once (the store returns what was drawn)."""
    rng = np.random.default_rng(1)
    day = datetime(2026, 3, 2, tzinfo=timezone.utc)
    days, per_day = 40, 50
    rows = [{"age": float(a), "plan": "pro"} for a in rng.normal(40, 10, days * per_day)]
    store = DuckDBStore(tmp_path / "s.duckdb")
    register_baseline(store, "m", "1", pa.Table.from_pylist(rows[:200]), now=day)
    store.write_predictions(
        "m",
        [
            PredictionEvent(f"e{i}", "1", day + timedelta(days=i // per_day, seconds=i), r, 0.5)
            for i, r in enumerate(rows)
        ],
    )
    settings = Settings(
        analysis={"windows": ["daily"], "backfill_days": 60},
        privacy={"dp": {"enabled": True, "epsilon": 1.0, "seed": 3}},
    )
    clock = ManualClock(day + timedelta(days=days, minutes=5))
    run = AnalysisRunner(store, settings, clock).run_once(since=day)
    summaries = {r.window_start: report_of(r).summary for r in run.computed if r.kind == "summary"}
    assert len(summaries) == days
    errors = [s.events - per_day for s in summaries.values() if s is not None]
    for stored in store.load_results("m", kind="summary", version="1"):
        assert report_of(stored).summary == summaries[stored.window_start]
    traffic = [report_of(r).traffic for r in run.computed if r.kind == "traffic"]
    assert all(t is not None and t.events >= 0 for t in traffic)
    store.close()
    # 2 sections, the summary's 1 + 2·2 releases: Laplace scale 2·5/ε = 10, so the mean
    # absolute error is 10 (its standard error over 40 windows: about 1.6); clipping at 0
    # does not reach 50 events often enough to matter
    assert 5 < np.mean(np.abs(errors)) < 15
    assert len(set(errors)) > 10  # every window its own noise
