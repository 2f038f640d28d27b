"""The demo's generated traffic really contains the planned incidents, and clean days are clean."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from scipy import stats

from keeneye.analysis.traffic import traffic_verdict
from keeneye.demo.scenario import (
    DAY,
    FEATURES,
    HOUR,
    Generator,
    HourBatch,
    World,
    default_scenario,
    expected_volume,
    train_versions,
)
from keeneye.errors import InputError
from keeneye.profile.report import TrafficComparison, TrafficSection

SCENARIO = default_scenario()
S0 = SCENARIO.start


@pytest.fixture(scope="module")
def world() -> World:
    return World.load()


@pytest.fixture(scope="module")
def generator(world: World) -> Generator:
    trained = train_versions(world, seed=0)
    return Generator(SCENARIO, world, {v: t.model for v, t in trained.items()}, seed=0)


def day(generator: Generator, d: int, hours: range = range(24)) -> list[HourBatch]:
    return [generator.hour(S0 + d * DAY + h * HOUR) for h in hours]


def column(batches: list[HourBatch], feature: str) -> np.ndarray:
    return np.array(
        [np.nan if r[feature] is None else r[feature] for b in batches for r in b.inputs]
    )


def test_traffic_has_a_daily_and_weekly_shape() -> None:
    monday = [expected_volume(SCENARIO, S0 + h * HOUR) for h in range(24)]
    saturday = [expected_volume(SCENARIO, S0 + 5 * DAY + h * HOUR) for h in range(24)]
    assert int(np.argmin(monday)) == 4 and int(np.argmax(monday)) == 16
    assert max(monday) == pytest.approx(200.0)
    assert min(monday) == pytest.approx(90.0)
    assert sum(saturday) == pytest.approx(0.65 * sum(monday))
    half = SCENARIO.incident("half_traffic")
    assert half is not None
    tuesday = sum(expected_volume(SCENARIO, half.start - 7 * DAY + h * HOUR) for h in range(24))
    assert sum(expected_volume(SCENARIO, half.start + h * HOUR) for h in range(24)) == (
        pytest.approx(tuesday / 2)
    )


def test_clean_days_look_like_the_baseline(world: World, generator: Generator) -> None:
    baseline = train_versions(world, seed=0)["1"].baseline
    clean = day(generator, 7)
    assert SCENARIO.clean(S0 + 7 * DAY, S0 + 8 * DAY)
    for feature in FEATURES:
        p = stats.ks_2samp(column(clean, feature), np.asarray(baseline[feature])).pvalue
        # one clean day vs the training data, ten features: no KS test rejects at 0.1 %
        assert p > 1e-3, feature
    predictions = np.array([p for b in clean for p in b.predictions])
    labels = np.array([y for b in clean for y in b.labels])
    assert np.isfinite(predictions).all()
    assert ((predictions >= 0.5) == labels).mean() > 0.9


def test_clean_hours_come_from_the_baselines_distribution(world: World) -> None:
    """Production rows and the baseline are drawn by one process (the dataset's rows plus the
    same jitter), so an hourly-sized clean sample is rejected by KS at α = 0.05 in 5 % of the
    tests — chance, not drift. Rows drawn from a fixed pool of held-out rows (another empirical
    distribution) would be rejected far more often."""
    baseline = train_versions(world, seed=0)["1"].baseline
    rng = np.random.default_rng(3)
    p_values = []
    for _ in range(150):
        rows, _ = world.draw(120, rng)  # a clean hour's worth of predictions
        for j, feature in enumerate(FEATURES):
            p_values.append(stats.ks_2samp(rows[:, j], np.asarray(baseline[feature])).pvalue)
    rejected = float(np.mean(np.asarray(p_values) < 0.05))
    # 1 500 tests: the binomial sd of the rate is 0.006 (tests of one draw are correlated)
    assert 0.03 < rejected < 0.075, rejected
    pool = world.draw(300, np.random.default_rng(4))[0]  # a small held-out pool, reused
    pooled = [
        stats.ks_2samp(pool[rng.integers(0, 300, 120), j], np.asarray(baseline[f])).pvalue
        for _ in range(30)
        for j, f in enumerate(FEATURES)
    ]
    assert float(np.mean(np.asarray(pooled) < 0.05)) > rejected


def test_gradual_drift_grows_over_three_days(world: World, generator: Generator) -> None:
    j = FEATURES.index("mean_texture")
    base = world.rows[:, j].mean()
    sd = world.std[j]
    shifts = [
        (np.nanmean(column(day(generator, d), "mean_texture")) - base) / sd
        for d in (7, 8, 9, 10, 11)
    ]
    # expected mean shift per day: 0, 1/3, 1, 5/3 (× 2 σ × 1/2 on average), then back to 0
    assert abs(shifts[0]) < 0.1 and abs(shifts[4]) < 0.1
    for got, want in zip(shifts[1:4], (1 / 3, 1.0, 5 / 3), strict=True):
        assert got == pytest.approx(want, abs=0.12)


def test_missing_column_hours(generator: Generator) -> None:
    batches = day(generator, 11)
    for h, batch in enumerate(batches):
        missing = [r["mean_smoothness"] is None for r in batch.inputs]
        assert all(missing) if 8 <= h < 20 else not any(missing), h
        assert all(r["mean_radius"] is not None for r in batch.inputs)


def test_half_traffic_day(generator: Generator) -> None:
    normal = sum(len(b.timestamps) for b in day(generator, 8))
    half = sum(len(b.timestamps) for b in day(generator, 15))
    assert half / normal == pytest.approx(0.5, abs=0.05)


def test_nan_burst_only_in_its_hour(generator: Generator) -> None:
    batches = day(generator, 16)
    for h, batch in enumerate(batches):
        nan_share = float(np.mean([math.isnan(p) for p in batch.predictions]))
        if h == 10:
            assert nan_share == pytest.approx(0.4, abs=0.12)
        else:
            assert nan_share == 0.0, h


def test_rescaled_feature_leaves_the_training_range(world: World, generator: Generator) -> None:
    low = min(train_versions(world, seed=0)["1"].baseline["mean_area"])
    batches = day(generator, 17)
    for h, batch in enumerate(batches):
        area = column([batch], "mean_area")
        below = float(np.mean(area < low))
        assert below == 1.0 if 6 <= h < 18 else below < 0.01, h


def test_concept_drift_shows_in_the_labels_only(generator: Generator) -> None:
    def accuracy(d: int) -> float:
        batches = day(generator, d)
        p = np.array([x for b in batches for x in b.predictions])
        y = np.array([x for b in batches for x in b.labels])
        return float(((p >= 0.5) == y).mean())

    assert accuracy(12) < 0.7 < 0.9 < accuracy(7)
    # the inputs do not move: the prediction distribution is the same as on a clean day
    p12 = [x for b in day(generator, 12) for x in b.predictions]
    p5 = [x for b in day(generator, 5) for x in b.predictions]
    assert stats.ks_2samp(p12, p5).pvalue > 1e-3


def test_new_version_and_label_delays(generator: Generator) -> None:
    switch = SCENARIO.incident("new_version")
    assert switch is not None
    assert generator.version_at(switch.start - timedelta(seconds=1)) == "1"
    assert generator.hour(switch.start).version == "2"
    # a nightly ground-truth export: a day's labels land together three days later at 06:00
    for hour in (0, 12, 23):
        batch = generator.hour(S0 + 3 * DAY + hour * HOUR)
        assert set(batch.label_times) == {S0 + 6 * DAY + 6 * HOUR}
        delays = [
            (lt - t).total_seconds() / 3600
            for t, lt in zip(batch.timestamps, batch.label_times, strict=True)
        ]
        assert min(delays) >= 54 and max(delays) <= 78


def test_scenario_refuses_what_it_cannot_plan() -> None:
    with pytest.raises(InputError, match="needs 21 days"):
        default_scenario(days=14)
    with pytest.raises(InputError, match="starts on a Monday"):
        default_scenario(start=datetime(2026, 11, 3, tzinfo=timezone.utc))
    with pytest.raises(InputError, match="timezone-aware"):
        default_scenario(start=datetime(2026, 11, 2))


def _traffic_alerts(counts: np.ndarray, weekend: np.ndarray, window: str | None) -> np.ndarray:
    """keeneye's traffic verdict (±40 %, 3 sigmas for a day) for every hour of one replay's
    hourly counts; ``window=None`` leaves the size out, so the 3-sigma cut applies unscaled."""
    alerts = np.zeros(len(counts), dtype=bool)
    for h, now in enumerate(counts):
        compared: dict[str, TrafficComparison] = {}
        for name, back in (("day", 24), ("week", 168)):
            then = int(counts[h - back]) if h >= back else None
            compared[name] = TrafficComparison(
                events=then,
                change_ratio=None if not then else int(now) / then - 1,
                same_day_kind=h >= back and bool(weekend[h - back] == weekend[h]),
            )
        section = TrafficSection(events=int(now), compared=compared)
        alerts[h] = traffic_verdict(section, 0.4, 20, min_z=3.0, window=window).alert
    return alerts


def test_hourly_traffic_rule_is_calm_on_clean_hours_and_sees_the_half_day() -> None:
    """Over many replays of the scenario's Poisson volumes, the hourly traffic rule almost never
    fires on a clean hour and catches most hours of the half-traffic day. An unscaled 3-sigma
    cut would not be calm (≈ 0.25 false alarms per replay): 504 hourly windows are 24 times as
    many tests as 21 daily ones, so the hourly cut is 3.86 sigmas."""
    hours = [S0 + h * HOUR for h in range(SCENARIO.days * 24)]
    volume = np.array([expected_volume(SCENARIO, t) for t in hours])
    weekend = np.array([t.weekday() >= 5 for t in hours])
    clean = np.array([SCENARIO.clean(t, t + HOUR) for t in hours])
    half = SCENARIO.incident("half_traffic")
    assert half is not None
    halved = np.array([half.active(t) for t in hours])
    rng = np.random.default_rng(5)
    replays = 150
    false_alarms = {"hourly": 0, "unscaled": 0}
    caught = []
    for _ in range(replays):
        counts = rng.poisson(volume)
        hourly = _traffic_alerts(counts, weekend, "hourly")
        false_alarms["hourly"] += int((hourly & clean).sum())
        false_alarms["unscaled"] += int((_traffic_alerts(counts, weekend, None) & clean).sum())
        caught.append(int((hourly & halved).sum()))
    assert false_alarms["hourly"] / replays < 0.05
    assert false_alarms["unscaled"] / replays > 0.1
    assert min(caught) >= 8 and np.mean(caught) > 14  # of the 24 hours of the half day
