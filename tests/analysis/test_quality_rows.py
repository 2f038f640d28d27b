"""A data-quality row never contradicts itself: values sent with the wrong type are invalid, not
missing, so the row's latest missing share, its invalid count and its findings agree (each
backend; values through the store's real write path, the real analysis runner, the model page).
"""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.server.ui import views
from keeneye.server.ui.timerange import TimeRange
from keeneye.store import EventStore
from keeneye.store.records import PredictionEvent

from .conftest import MONDAY


def test_wrong_typed_values_are_invalid_not_missing(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(3)
    register_baseline(store, "churn", "1", {"age": rng.normal(40, 10, 2000)}, now=clock.now())
    n, wrong, missing = 600, 10, 3
    events = []
    for i in range(n):
        age: object = float(rng.normal(40, 10))
        if i >= n - wrong:
            age = "forty"  # the wrong type: stored as missing with a marker
        elif i >= n - wrong - missing:
            age = None
        events.append(
            PredictionEvent(f"e{i}", "1", MONDAY + timedelta(minutes=2 * i), {"age": age}, 0.5)
        )
    store.write_predictions("churn", events)
    clock.set(MONDAY + timedelta(days=1, hours=1))
    settings = Settings(analysis={"windows": ["daily"]})
    AnalysisRunner(store, settings, clock).run_once()

    (stored,) = store.load_results("churn", kind="summary")
    feature = report_of(stored).summary.features["age"]  # type: ignore[union-attr]
    assert feature.missing_ratio == missing / n
    assert feature.invalid_count == wrong
    tr = TimeRange(MONDAY, MONDAY + timedelta(days=1), None, "daily")
    (row,) = views.model_page(store, settings, "churn", tr)["quality_rows"]
    assert row["latest_missing"] == missing / n and row["invalid"] == wrong
    findings = "; ".join(row["issues"])
    assert f"missing share changed from 0.0% to {missing / n:.1%}" in findings
    assert f"{wrong} values of the wrong type" in findings
    # Every percentage the findings print about missing values is the row's missing share.
    shares = re.findall(r"missing share changed from [\d.]+% to ([\d.]+)%", findings)
    assert shares == [f"{100 * row['latest_missing']:.1f}"]


def test_no_change_is_reported_when_it_does_not_show(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(4)
    baseline = rng.normal(40, 10, 2000)
    register_baseline(store, "churn", "1", {"age": baseline}, now=clock.now())
    # One missing value in 4000: a 0.025 % share prints as 0.0 %, the baseline's share.
    ages: list[float | None] = [float(v) for v in rng.normal(40, 10, 4000)]
    ages[0] = None
    step = timedelta(days=1) / len(ages)
    store.write_predictions(
        "churn",
        [
            PredictionEvent(f"e{i}", "1", MONDAY + i * step, {"age": a}, 0.5)
            for i, a in enumerate(ages)
        ],
    )
    clock.set(MONDAY + timedelta(days=1, hours=1))
    AnalysisRunner(store, Settings(analysis={"windows": ["daily"]}), clock).run_once()
    (stored,) = store.load_results("churn", kind="summary")
    feature = report_of(stored).summary.features["age"]  # type: ignore[union-attr]
    assert feature.missing_ratio == 1 / 4000
    assert not any("missing share" in issue for issue in feature.issues)
