"""Online change detectors in the stats job: an injected jump of the error rate (labels stop
following the model halfway through a day) is flagged after the jump, within the documented
delay; the clean days stay quiet; through the analysis runner on a real store."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from tests._peer_worlds import classifier_rows, write_labels, write_window

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.rules import evaluate
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.report import Report
from keeneye.profile.stored import report_of
from keeneye.store import EventStore

from .conftest import MONDAY

DAY = timedelta(days=1)
N = 1000
DAYS = 6


def test_error_rate_jump_is_detected_after_it_happens(
    store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(17)
    register_baseline(store, "clf", "1", classifier_rows(rng, 5000), now=clock.now())
    for d in range(DAYS):
        rows = classifier_rows(rng, N)
        if d == DAYS - 1:  # from noon on, 40 % of the labels contradict the model
            second = np.arange(N) >= N // 2
            flip = second & (rng.uniform(size=N) < 0.4)
            rows["label"] = np.where(flip, 1 - rows["label"], rows["label"])
        pairs = write_window(
            store, "clf", MONDAY + d * DAY, DAY, rows, ("x1", "x2"), prefix=f"d{d}",
            probabilities=True,
        )  # fmt: skip
        write_labels(store, "clf", pairs, MONDAY + (d + 1) * DAY)
    clock.set(MONDAY + DAYS * DAY + timedelta(hours=1))
    settings = Settings(analysis={"windows": ["daily"], "online": {"clf": ["error", "score"]}})
    AnalysisRunner(store, settings, clock).run_once()
    results = sorted(store.load_results("clf", kind="online"), key=lambda r: r.window_start)
    assert len(results) == DAYS
    noon = MONDAY + (DAYS - 1) * DAY + DAY / 2
    for d, r in enumerate(results):
        section = report_of(r).online
        assert section is not None
        assert Report.from_json(report_of(r).to_json()) == report_of(r)
        by = {(x.stream, x.method): x for x in section.results}
        assert set(by) == {(s, m) for s in ("error", "score")
                           for m in ("adwin", "page_hinkley", "ddm")}  # fmt: skip
        assert by[("score", "ddm")].problem == "DDM needs a 0/1 error stream"
        assert not by[("score", "adwin")].detected and not by[("score", "page_hinkley")].detected
        if d < DAYS - 1:
            assert not section.detected, (d, section.detected)
            continue
        for method, delay in (("adwin", 300), ("page_hinkley", 200)):
            found = by[("error", method)]
            assert found.n == N and found.detections, method
            first = datetime.fromisoformat(found.detected_at[0])
            assert first >= noon, (method, first)
            assert found.detections[0] - N // 2 <= delay, (method, found.detections)
    alerts = evaluate(results, settings.alerts)
    assert {a.window_start for a in alerts} == {MONDAY + (DAYS - 1) * DAY}
    assert {"error:adwin", "error:page_hinkley"} <= {a.subject for a in alerts}
