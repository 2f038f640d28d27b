"""Multivariate drift: a change in the correlation of two features — marginals untouched — is
flagged by the PCA reconstruction error and the domain classifier, and missed by every
univariate drift method keeneye has; through the analysis runner on a real store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as st
from tests._peer_worlds import write_window

from keeneye.analysis.clock import ManualClock
from keeneye.analysis.multivariate import levels
from keeneye.analysis.rules import evaluate
from keeneye.analysis.runner import AnalysisRunner
from keeneye.baseline import register_baseline
from keeneye.config import Settings
from keeneye.profile.reference import CompareOptions, Reference
from keeneye.profile.report import Report, corrected
from keeneye.profile.stored import report_of
from keeneye.stats import NUMERIC_METHODS, DriftOptions
from keeneye.stats.budget import AlertBudget
from keeneye.stats.multivariate import (
    PCAReconstruction,
    auc_standard_error,
    domain_classifier,
)
from keeneye.store import EventStore

from .conftest import MONDAY

DAY = timedelta(days=1)


def correlated(rng: np.random.Generator, n: int, rho: float) -> dict[str, np.ndarray]:
    """x1, x2 standard normal with correlation ``rho``; x3 independent; the prediction reads x3
    only, so its distribution does not move either."""
    x1 = rng.normal(size=n)
    x2 = rho * x1 + np.sqrt(1 - rho**2) * rng.normal(size=n)
    x3 = rng.normal(size=n)
    return {"x1": x1, "x2": x2, "x3": x3, "prediction": 1 / (1 + np.exp(-x3)), "label": x3 > 0}


def test_correlation_flip_is_missed_by_every_univariate_method() -> None:
    # (a window's univariate family alerts by chance at the budget's ~1 % level: seed 7, for
    # one, draws a KS p-value of 0.0014 on x1, whose distribution is the same on both sides)
    rng = np.random.default_rng(8)
    base, cur = correlated(rng, 3000, 0.8), correlated(rng, 800, -0.8)
    features = ("x1", "x2", "x3")
    reference = Reference.fit(pa.table({f: base[f] for f in features}))
    current = pa.table({f: cur[f] for f in features})
    level = AlertBudget().window_level(DAY)  # a daily window's level under the default budget
    for method in NUMERIC_METHODS:
        options = CompareOptions(drift=DriftOptions(alpha=level), methods={"*": method})
        report = reference.compare(current, options)
        assert report.drift is not None
        assert report.drift.n_tested == 3, method
        assert not any(corrected(f) for f in report.drift.features), method
    x_base = np.column_stack([base[f] for f in features])
    x_cur = np.column_stack([cur[f] for f in features])
    pca = PCAReconstruction.fit(x_base, features)
    assert pca.components == 2  # 65 % of the variance: the shared direction and x3
    assert pca.score(x_base[:800], level).drifted is False
    flagged = pca.score(x_cur, level)
    assert flagged.drifted and flagged.statistic is not None and flagged.upper is not None
    assert flagged.statistic > flagged.upper
    clf = domain_classifier(x_base, x_cur, level, names=features, seed=0)
    assert clf.drifted and clf.statistic is not None and clf.statistic > 0.6
    assert clf.lower is not None and clf.lower > 0.5
    same = domain_classifier(x_base[:1500], x_base[1500:], level, names=features, seed=0)
    assert same.drifted is False


def test_pca_p_value_and_auc_interval_against_published_formulas() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 4))
    pca = PCAReconstruction.fit(x)
    cur = rng.normal(size=(200, 4)) * 1.1
    result = pca.score(cur, 0.05)
    errors = pca.errors(cur)
    z = (errors.mean() - pca.error_mean) / (pca.error_sd / np.sqrt(200))
    assert result.p_value == pytest.approx(st.norm.sf(z), rel=1e-9)
    # Hanley & McNeil's formula is exact for exponential scores: simulate AUC = 0.8 with 50
    # positives (rate 1/4) and 50 negatives (rate 1) and compare the AUC's spread
    sim = np.random.default_rng(2)
    pos = sim.exponential(4.0, size=(4000, 50))
    neg = sim.exponential(1.0, size=(4000, 50))
    aucs = (pos[:, :, None] > neg[:, None, :]).mean(axis=(1, 2))
    assert aucs.mean() == pytest.approx(0.8, abs=0.005)
    assert auc_standard_error(0.8, 50, 50) == pytest.approx(aucs.std(ddof=1), rel=0.05)


def test_level_is_shared_with_the_univariate_tests() -> None:
    univariate, each = levels(0.011, 4, 2)
    assert univariate + 2 * each == pytest.approx(0.011)
    assert each == pytest.approx(0.011 / 6)


def test_runner_flags_the_flipped_windows_only(store: EventStore, clock: ManualClock) -> None:
    rng = np.random.default_rng(21)
    register_baseline(store, "mv", "1", correlated(rng, 5000, 0.8), now=clock.now())
    days, flip_from = 7, 4
    for d in range(days):
        rows = correlated(rng, 600, 0.8 if d < flip_from else -0.8)
        write_window(store, "mv", MONDAY + d * DAY, DAY, rows, ("x1", "x2", "x3"), prefix=f"d{d}")
    clock.set(MONDAY + days * DAY + timedelta(hours=1))
    settings = Settings(analysis={"windows": ["daily"], "multivariate": ["mv"]})
    AnalysisRunner(store, settings, clock).run_once()
    results = sorted(store.load_results("mv", kind="multivariate"), key=lambda r: r.window_start)
    assert len(results) == days
    for d, r in enumerate(results):
        section = report_of(r).multivariate
        assert section is not None
        assert {t.method for t in section.tests} == {"pca_reconstruction", "domain_classifier"}
        for test in section.tests:
            assert test.drifted is (d >= flip_from), (d, test)
        assert Report.from_json(report_of(r).to_json()) == report_of(r)
    for r in store.load_results("mv", kind="drift"):
        drift = report_of(r).drift
        assert drift is not None and drift.n_tested == 3
        assert not any(corrected(f) for f in drift.rows()), "univariate tests miss it"
    alerts = [a for a in evaluate(results, settings.alerts) if a.rule == "multivariate_drift"]
    assert {a.window_start for a in alerts} == {MONDAY + d * DAY for d in range(flip_from, days)}
