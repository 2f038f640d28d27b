"""Differential-privacy noise: its distribution has the documented scale, the budget is split
as documented, and a window's published counts carry it (``keeneye.privacy.dp``)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest
from scipy import stats

from keeneye.config import DifferentialPrivacySettings
from keeneye.privacy.dp import Noiser, noise, noise_scale, privatize, window_rng
from keeneye.profile.report import (
    FeatureStats,
    Report,
    SummarySection,
    SummaryStats,
    TrafficSection,
)

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
