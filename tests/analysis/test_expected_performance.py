"""Performance thresholds from the baseline's labels: without `performance_min`, a window's
metrics are judged against their spread on chunks of the baseline of the same size; clean
windows stay quiet, a degraded one alerts."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sklearn import metrics as skm

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.expected import (
    ExpectedCache,
    expected_ranges,
    labelled_baseline,
    prepare_baseline,
)
from keeneye.analysis.rules import evaluate
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.store import EventStore
from keeneye.store.records import LabelEvent

from .conftest import MONDAY, labels_for, write_day


def _baseline(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    score = rng.uniform(0, 1, n)
    predicted = (score >= 0.5).astype(int)
    label = np.where(rng.uniform(size=n) < 0.8, predicted, 1 - predicted)
    return {
        "age": rng.normal(40, 10, n),
        "plan": rng.choice(["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2]).astype(object),
        "prediction": score,
        "label": label,
    }


def test_expected_ranges_are_the_chunk_spread() -> None:
    import pyarrow as pa

    rng = np.random.default_rng(1)
    events = labelled_baseline(pa.table(_baseline(rng, 5000)))
    assert events is not None
    ranges = expected_ranges(events, 300, 0.01, chunks=40, seed=3)
    acc = ranges["accuracy"]
    # the same chunks by hand, with scikit-learn's accuracy
    draw = np.random.default_rng(3)
    y = np.asarray(events.column("label").to_pylist())
    p = (np.asarray(events.column("prediction").to_pylist()) >= 0.5).astype(int)
    values = []
    for _ in range(40):
        take = np.sort(draw.choice(events.num_rows, size=300, replace=False))
        values.append(skm.accuracy_score(y[take], p[take]))
    assert acc.mean == pytest.approx(np.mean(values), abs=1e-12)
    assert acc.sd == pytest.approx(np.std(values, ddof=1), abs=1e-12)
    assert acc.sd == pytest.approx(np.sqrt(0.8 * 0.2 / 300), rel=0.35)  # binomial error
    assert acc.low is not None and acc.low < acc.mean and acc.high is None
    assert ranges["log_loss"].high is not None and ranges["log_loss"].low is None


def test_a_prepared_baseline_gives_the_same_ranges_for_any_label_count() -> None:
    import pyarrow as pa

    rng = np.random.default_rng(2)
    events = labelled_baseline(pa.table(_baseline(rng, 4000)))
    assert events is not None
    prepared = prepare_baseline(events)  # what a runner keeps per baseline digest
    for n in (150, 900):
        assert expected_ranges(prepared, n, 0.01, chunks=20) == expected_ranges(
            events, n, 0.01, chunks=20
        )
    cache = ExpectedCache(ranges=1)
    first = cache.ranges("a", lambda: expected_ranges(prepared, 150, 0.01, chunks=20))
    assert cache.ranges("a", dict) is first  # kept: not computed again
    cache.ranges("b", dict)
    assert cache.ranges("a", dict) == {}  # the oldest dropped beyond the size


def test_clean_windows_quiet_degraded_window_alerts(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(5)
    register_baseline(store, "churn", "1", _baseline(rng, 6000), now=clock.now())
    days = 10
    for d in range(days):
        day = MONDAY + timedelta(days=d)
        events = write_day(store, "churn", day, 400, rng=rng, prefix="e")
        if d == days - 1:  # the model broke: labels no longer follow the score
            labels = [LabelEvent(e.event_id, int(rng.uniform() < 0.5), day) for e in events]
        else:
            labels = labels_for(events, day + timedelta(hours=23), rng)
        store.write_labels("churn", labels)
    clock.set(MONDAY + timedelta(days=days, hours=1))
    settings = Settings(analysis={"windows": ["daily"]})
    AnalysisRunner(store, settings, clock).run_once()
    results = sorted(store.load_results("churn", kind="performance"), key=lambda r: r.window_start)
    assert len(results) == days
    section = report_of(results[0]).performance
    assert section is not None and "accuracy" in section.expected
    alerts = [a for a in evaluate(results, settings.alerts) if a.rule == "performance"]
    broken = MONDAY + timedelta(days=days - 1)
    assert alerts, "the degraded window must alert"
    assert {a.window_start for a in alerts} == {broken}
    assert any("expected from the baseline" in a.summary for a in alerts)


def test_late_labels_and_a_new_baseline_give_the_ranges_of_the_baseline_in_use(
    store: EventStore, clock: ManualClock
) -> None:
    """A runner keeps the ranges across runs; they stay those of the baseline registered."""
    import pyarrow as pa

    from keeneye.analysis.drift import window_alpha

    rng = np.random.default_rng(8)
    first, second = _baseline(rng, 3000), _baseline(rng, 3000)
    second["label"] = 1 - second["label"]  # another baseline: other metrics, other ranges
    register_baseline(store, "churn", "1", first, now=clock.now())
    events = write_day(store, "churn", MONDAY, 400, rng=rng, prefix="e")
    store.write_labels("churn", labels_for(events[:300], MONDAY + timedelta(hours=23), rng))
    settings = Settings(analysis={"windows": ["daily"]})
    runner = AnalysisRunner(store, settings, clock)
    level = window_alpha(settings.analysis, timedelta(days=1))

    def expected_now() -> dict[str, object]:
        latest = max(store.load_results("churn", kind="performance"), key=lambda r: r.computed_at)
        section = report_of(latest).performance
        assert section is not None
        return dict(section.expected)

    def ranges_of(baseline: dict[str, np.ndarray], n: int) -> dict[str, object]:
        events = labelled_baseline(pa.table(baseline))
        assert events is not None
        return dict(expected_ranges(events, n, level))

    clock.set(MONDAY + timedelta(days=1, hours=1))
    runner.run_once()
    assert expected_now() == ranges_of(first, 300)
    # one late label: the window is computed again, 301 labels round to 300
    store.write_labels("churn", labels_for(events[300:301], clock.now(), rng))
    clock.advance(minutes=5)
    assert runner.run_once().windows == 1
    assert expected_now() == ranges_of(first, 300)
    # a new baseline of the version: the ranges come from it
    register_baseline(store, "churn", "1", second, now=clock.now())
    store.write_labels("churn", labels_for(events[301:302], clock.now(), rng))
    clock.advance(minutes=5)
    runner.run_once()
    assert expected_now() == ranges_of(second, 300) != ranges_of(first, 300)
