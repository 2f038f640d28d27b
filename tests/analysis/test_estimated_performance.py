"""Performance estimated without labels (CBPE, DLE) through the analysis runner on a real store:
the estimate follows a covariate shift before any label lands, its band holds the realized
value once labels arrive, and its realized values agree with scikit-learn."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm
from tests._peer_worlds import classifier_rows, regressor_rows, write_labels, write_window

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.estimation import fit_estimator
from keeneye.analysis.rules import evaluate
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.report import EstimatedSection, Report
from keeneye.profile.stored import report_of
from keeneye.schema import FeatureKind
from keeneye.store import EventStore

from .conftest import MONDAY

DAYS = 16
SHIFT_FROM = 8
LABELLED_UNTIL = 12  # days before this get labels at once; later ones only at the end
N = 500
DAY = timedelta(days=1)


def _sections(store: EventStore, model: str) -> list[EstimatedSection]:
    results = sorted(store.load_results(model, kind="estimated"), key=lambda r: r.window_start)
    out = []
    for r in results:
        section = report_of(r).estimated
        assert section is not None
        out.append(section)
    return out


def _within(sections: list[EstimatedSection], metric: str) -> float:
    hits = []
    for s in sections:
        m = s.metrics[metric]
        assert m.realized is not None and m.lower is not None and m.upper is not None
        hits.append(m.lower <= m.realized <= m.upper)
    return float(np.mean(hits))


def test_cbpe_follows_a_covariate_shift_before_the_labels(
    store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(11)
    register_baseline(store, "clf", "1", classifier_rows(rng, 6000), now=clock.now())
    pending = []
    truths = {}
    for d in range(DAYS):
        rows = classifier_rows(rng, N, spread=1.0 if d < SHIFT_FROM else 0.35)
        pairs = write_window(
            store,
            "clf",
            MONDAY + d * DAY,
            DAY,
            rows,
            ("x1", "x2"),
            prefix=f"d{d}",
            probabilities=True,
        )
        truths[d] = rows
        if d < LABELLED_UNTIL:
            write_labels(store, "clf", pairs, MONDAY + (d + 1) * DAY)
        else:
            pending.append(pairs)
    clock.set(MONDAY + DAYS * DAY + timedelta(hours=1))
    settings = Settings(analysis={"windows": ["daily"], "estimate_performance": ["clf"]})
    runner = AnalysisRunner(store, settings, clock)
    runner.run_once()
    early = _sections(store, "clf")
    assert len(early) == DAYS and all(s.method == "cbpe" and s.rows == N for s in early)
    # before labels: the shifted, unlabelled windows' estimates are under the baseline range
    for s in early[LABELLED_UNTIL:]:
        assert s.labels == 0 and s.metrics["accuracy"].realized is None
        for metric in ("accuracy", "roc_auc"):
            m = s.metrics[metric]
            assert m.value is not None and m.baseline_low is not None
            assert m.value < m.baseline_low, (metric, m)
    alerts = evaluate(store.load_results("clf", kind="estimated"), settings.alerts)
    flagged = {a.window_start for a in alerts if a.rule == "estimated_performance"}
    shifted = {MONDAY + d * DAY for d in range(SHIFT_FROM, DAYS)}
    assert shifted <= flagged, "every shifted window alerts on the estimate"
    assert not flagged - shifted, "clean windows stay quiet"

    # the labels of the last days land: the windows re-open, the band holds the realized value
    for pairs in pending:
        write_labels(store, "clf", pairs, clock.now())
    clock.set(clock.now() + timedelta(hours=1))
    runner.run_once()
    final = _sections(store, "clf")
    assert all(s.labels == N for s in final)
    for metric in ("accuracy", "roc_auc"):
        assert _within(final, metric) >= 0.9, metric
    # realized values are scikit-learn's over the same rows; error = estimate - realized
    for d in (0, DAYS - 1):
        m = final[d].metrics
        rows = truths[d]
        assert m["accuracy"].realized == pytest.approx(
            skm.accuracy_score(rows["label"], rows["prediction"]), abs=1e-12
        )
        assert m["roc_auc"].realized == pytest.approx(
            skm.roc_auc_score(rows["label"], rows["score"]), abs=1e-12
        )
        assert m["f1"].realized == pytest.approx(
            skm.f1_score(rows["label"], rows["prediction"]), abs=1e-12
        )
        value, realized = m["accuracy"].value, m["accuracy"].realized
        assert value is not None and realized is not None
        assert m["accuracy"].error == pytest.approx(value - realized)


def test_dle_follows_a_shift_to_where_the_model_is_less_precise(
    store: EventStore, clock: ManualClock
) -> None:
    rng = np.random.default_rng(12)
    register_baseline(store, "reg", "1", regressor_rows(rng, 6000), now=clock.now())
    pending = []
    for d in range(DAYS):
        rows = regressor_rows(rng, N, noise_shift=0.0 if d < SHIFT_FROM else 1.5)
        pairs = write_window(
            store, "reg", MONDAY + d * DAY, DAY, rows, ("x1", "x2"), prefix=f"r{d}"
        )
        if d < LABELLED_UNTIL:
            write_labels(store, "reg", pairs, MONDAY + (d + 1) * DAY)
        else:
            pending.append(pairs)
    clock.set(MONDAY + DAYS * DAY + timedelta(hours=1))
    settings = Settings(analysis={"windows": ["daily"], "estimate_performance": ["*"]})
    runner = AnalysisRunner(store, settings, clock)
    runner.run_once()
    sections = _sections(store, "reg")
    assert len(sections) == DAYS and all(s.method == "dle" for s in sections)
    for s in sections[LABELLED_UNTIL:]:  # shifted, no labels yet: above the baseline's range
        m = s.metrics["mae"]
        assert s.labels == 0 and m.value is not None and m.baseline_high is not None
        assert m.value > m.baseline_high
    alerts = evaluate(store.load_results("reg", kind="estimated"), settings.alerts)
    flagged = {a.window_start for a in alerts if a.rule == "estimated_performance"}
    assert flagged == {MONDAY + d * DAY for d in range(SHIFT_FROM, DAYS)}
    for pairs in pending:  # the last labels land: every window's band against its realized
        write_labels(store, "reg", pairs, clock.now())
    clock.set(clock.now() + timedelta(hours=1))
    runner.run_once()
    final = _sections(store, "reg")
    assert all(s.labels == N for s in final)
    for metric in ("mae", "rmse"):
        assert _within(final, metric) >= 0.9, metric


def test_multiclass_cbpe_and_report_round_trip() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    logits = rng.normal(size=(n, 3)) * 2
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in p])
    names = np.array(["a", "b", "c"])
    table = pa.table(
        {
            "x": rng.normal(size=n),
            "score_a": p[:, 0],
            "score_b": p[:, 1],
            "score_c": p[:, 2],
            "prediction": names[p.argmax(axis=1)],
            "label": names[labels],
        }
    )
    estimator = fit_estimator(table, {"x": FeatureKind.NUMERIC})
    assert estimator is not None and estimator.cbpe is not None
    assert estimator.cbpe.classes == ("a", "b", "c")
    scores = p[:2000]
    estimate = estimator.cbpe.estimate(scores, p[:2000].argmax(axis=1))
    accuracy = skm.accuracy_score(labels[:2000], p[:2000].argmax(axis=1))
    sd = estimator.sampling(2000).sd["accuracy"]
    assert estimate["accuracy"] == pytest.approx(accuracy, abs=3 * sd)
    macro_auc = skm.roc_auc_score(labels[:2000], scores, multi_class="ovr", average="macro")
    assert estimate["roc_auc"] == pytest.approx(macro_auc, abs=0.03)
    # a report with an estimated section round-trips, and an older one without it still reads
    from keeneye.analysis.estimation import estimated_section

    events = pa.table(
        {
            "prediction": table.column("prediction"),
            "label": pa.nulls(n, pa.string()),
            "probabilities": pa.nulls(n, pa.string()),
        }
    )
    section = estimated_section(estimator, table, events, 0.01)
    report = Report(window="daily", estimated=section)
    assert Report.from_json(report.to_json()) == report
    old = Report.from_json('{"format": 2, "window": "daily"}')
    assert old.estimated is None and old.multivariate is None
