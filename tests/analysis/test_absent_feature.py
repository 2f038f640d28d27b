"""A baseline feature the current data does not carry (no such column) is reported as absent — one
schema-change alert, a drift row that says absent — never as NaNs or a 100 % missing share; a
column that is sent but empty is missing values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from keeneye.analysis.absent import ABSENT_REASON
from keeneye.analysis.clock import ManualClock
from keeneye.analysis.rules import evaluate
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.stored import report_of
from keeneye.store import EventStore

from .conftest import MONDAY, normal_rows, write_day


def _without_city(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    return normal_rows(rng, n)  # age and plan only


def _with_some_city(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    rows = normal_rows(rng, n)
    for i, row in enumerate(rows):
        row["city"] = None if i % 10 else "Oslo"  # sent, mostly null: missing, not absent
    return rows


def test_absent_feature_is_one_schema_alert(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(8)
    n = 2000
    baseline = {
        "age": rng.normal(40, 10, n),
        "plan": rng.choice(["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2]).astype(object),
        "city": rng.choice(["Oslo", "Rome"], n).astype(object),
    }
    register_baseline(store, "churn", "1", baseline, now=clock.now())
    settings = Settings(analysis={"windows": ["daily"]})
    # Monday: the clients never send city (the store has no such column yet)
    write_day(store, "churn", MONDAY, 300, rng=rng, rows=_without_city)
    clock.set(MONDAY + timedelta(days=1, hours=1))
    AnalysisRunner(store, settings, clock).run_once()
    # Tuesday: city is sent, mostly empty
    write_day(store, "churn", MONDAY + timedelta(days=1), 300, rng=rng, rows=_with_some_city)
    clock.set(MONDAY + timedelta(days=2, hours=1))
    AnalysisRunner(store, settings, clock).run_once()

    summaries = {r.window_start: r for r in store.load_results("churn", kind="summary")}
    drifts = {r.window_start: r for r in store.load_results("churn", kind="drift")}
    first, second = MONDAY, MONDAY + timedelta(days=1)

    summary = report_of(summaries[first]).summary
    assert summary is not None
    city = summary.features["city"]
    assert city.absent is True and city.missing_ratio is None
    assert city.summary is None and city.quality is None
    assert summary.absent_features == ("city",)
    drift = report_of(drifts[first]).drift
    assert drift is not None
    row = drift["city"]
    assert row.reason == ABSENT_REASON and row.drifted is None
    assert "NaN" not in str(row.reason) and "finite" not in str(row.reason)
    assert drift.absent_features == ("city",)

    alerts = evaluate([summaries[first], drifts[first]], settings.alerts)
    assert [(a.rule, a.subject) for a in alerts] == [("schema_change", "schema")]
    assert "'city'" in alerts[0].summary

    # sent but mostly null: a missing share (90 % over a 0 % baseline), not absent
    later = report_of(summaries[second]).summary
    assert later is not None
    assert later.features["city"].absent is False
    assert later.features["city"].missing_ratio == 0.9
    assert later.absent_features == ()
    rules = {(a.rule, a.subject) for a in evaluate([summaries[second]], settings.alerts)}
    assert rules == {("missing_values", "city")}
