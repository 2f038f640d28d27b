"""Segments: drift that exists in one segment only — missed by the overall tests — is found
in that segment, the segment tests share the window's alert budget, and a performance drop in
one segment is attributed to it; through the analysis runner on a real store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from tests._peer_worlds import write_labels, write_window

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.drift import window_alpha
from keeneye.analysis.rules import evaluate
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.report import corrected
from keeneye.profile.stored import report_of
from keeneye.store import EventStore

from .conftest import MONDAY

DAY = timedelta(days=1)
PLANS = np.array(["basic", "pro", "team", "trial"])
SHARES = [0.5, 0.25, 0.15, 0.10]


def rows(rng: np.random.Generator, n: int, broken: bool) -> dict[str, np.ndarray]:
    """``x`` ~ N(0, 1) in every plan; when ``broken``, the trial plan's ``x`` moves by 0.9 sd
    and its predictions turn to coin flips (10 % of the traffic)."""
    plan = rng.choice(PLANS, n, p=SHARES)
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    trial = plan == "trial"
    if broken:
        x[trial] += 0.9
    truth = (x + z + rng.normal(size=n) * 0.5 > 0).astype(int)
    prediction = (x + z > 0).astype(int)
    if broken:
        prediction[trial] = rng.integers(0, 2, int(trial.sum()))
    return {"plan": plan.astype(object), "x": x, "z": z, "prediction": prediction, "label": truth}


def test_drift_in_one_segment_only(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(31)
    register_baseline(store, "seg", "1", rows(rng, 6000, False), now=clock.now())
    days, broken_from = 6, 3
    for d in range(days):
        data = rows(rng, 1000, d >= broken_from)
        pairs = write_window(
            store, "seg", MONDAY + d * DAY, DAY, data, ("plan", "x", "z"), prefix=f"d{d}"
        )
        write_labels(store, "seg", pairs, MONDAY + (d + 1) * DAY)
    clock.set(MONDAY + days * DAY + timedelta(hours=1))
    settings = Settings(
        analysis={"windows": ["daily"], "segments": {"seg": ["plan"]}, "segment_top_k": 3}
    )
    AnalysisRunner(store, settings, clock).run_once()
    drift = sorted(store.load_results("seg", kind="drift"), key=lambda r: r.window_start)
    segments = sorted(store.load_results("seg", kind="segments"), key=lambda r: r.window_start)
    assert len(drift) == len(segments) == days
    level = window_alpha(settings.analysis, DAY)
    for d, (dr, sg) in enumerate(zip(drift, segments, strict=True)):
        overall = report_of(dr).drift
        section = report_of(sg).segments
        assert overall is not None and section is not None
        assert not any(corrected(f) for f in overall.rows()), f"overall tests miss it (day {d})"
        (column,) = section.columns
        assert column.column == "plan"
        # top 3 plans, and the rest (trial) as "other"
        assert [s.value for s in column.segments] == ["basic", "pro", "team", "other"]
        by_value = {s.value: s for s in column.segments}
        for s in column.segments:
            # the segment family's share of the window's level, split among 4 segments
            assert s.level is not None and s.level < level / 4
        broken = d >= broken_from
        assert ("x" in by_value["other"].drifted) is broken, (d, by_value["other"])
        assert by_value["other"].performance_drop is broken
        for value in ("basic", "pro", "team"):
            assert by_value[value].drifted == () and not by_value[value].performance_drop
        assert [(c, s.value) for c, s in section.drivers()] == (
            [("plan", "other")] if broken else []
        )
        assert by_value["basic"].share == pytest.approx(0.5, abs=0.06)
        assert by_value["basic"].baseline_share == pytest.approx(0.5, abs=0.03)
    # the budget: features, prediction and segment tests share the window's level
    first = report_of(drift[0]).drift
    assert first is not None and first.alpha < level
    alerts = evaluate(segments, settings.alerts)
    assert {(a.rule, a.subject) for a in alerts} == {
        ("segment_drift", "plan=other"),
        ("segment_performance", "plan=other"),
    }
    assert {a.window_start for a in alerts} == {MONDAY + d * DAY for d in range(broken_from, days)}
