"""The alert budget: false alerts per model-quarter at the daily cadence stay within the
default budget over hundreds of seeded i.i.d. replays, and real shifts are still caught.

The replay is computed at the statistics level, vectorised: KS statistics of every
(quarter, day, feature) against one sorted reference, p-values from the engine's
``ks_p_values`` (checked against scipy here), Holm's correction from the engine's
``adjust_p_values`` per window, the level from the settings' default budget.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from scipy import stats as sps

from keeneye.analysis.drift import drift_options, window_alpha
from keeneye.config import AnalysisSettings, load_settings
from keeneye.errors import InputError
from keeneye.stats import DriftOptions, detect_drift
from keeneye.stats.budget import (
    DAY,
    AlertBudget,
    expected_false_alerts_per_month,
    holm_family_error,
    share_level,
    split_level,
)
from keeneye.stats.correction import adjust_p_values
from keeneye.stats.ks import ks_p_values
from keeneye.stats.profile import ReferenceProfile

N_REF = 20_000  # above scipy's exact limit: the asymptotic branch, vectorised
N_DAY = 300  # a day's predictions: n_eff ≈ 296, so the p-value decides
FEATURES = 8
QUARTERS = 200


def _ks_d(ref_sorted: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Two-sample KS statistic of each row of ``current`` against ``ref_sorted`` (continuous
    data: no ties), from the ECDF jumps at the current points."""
    cur = np.sort(current, axis=1)
    n = cur.shape[1]
    right = np.searchsorted(ref_sorted, cur, side="right") / ref_sorted.size
    left = np.searchsorted(ref_sorted, cur, side="left") / ref_sorted.size
    i = np.arange(1, n + 1) / n
    above = np.max(i - right, axis=1)
    below = np.max(left - (i - 1.0 / n), axis=1)
    return np.maximum(above, below)


def _quarter_p_values(
    rng: np.random.Generator, ref_sorted: np.ndarray, windows: int, shift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """KS statistics (windows × features) of one quarter of daily windows; feature 0 is
    shifted by ``shift`` σ. Returns (D, smallest p-value of each window)."""
    current = rng.standard_normal((windows * FEATURES, N_DAY))
    if shift:
        current[::FEATURES] += shift
    d = _ks_d(ref_sorted, current).reshape(windows, FEATURES)
    # The smallest p-value of a window is the one of its largest D (same n everywhere).
    _, p_min, exact = ks_p_values(d.max(axis=1), [N_REF] * windows, [N_DAY] * windows)
    assert not exact.any()
    return d, p_min


def _quarter_alerts(
    rng: np.random.Generator, ref_sorted: np.ndarray, windows: int, level: float
) -> int:
    """Windows of one quarter with a drift alert at ``level``: Holm rejects some feature of a
    window exactly when its smallest adjusted p-value, m·p_min, is below the level."""
    _, p_min = _quarter_p_values(rng, ref_sorted, windows)
    return int(np.count_nonzero(np.minimum(FEATURES * p_min, 1.0) < level))


def _quarter_alerts_full(
    rng: np.random.Generator, ref_sorted: np.ndarray, windows: int, level: float
) -> int:
    """The same count through every p-value and the engine's Holm correction per window."""
    d, _ = _quarter_p_values(rng, ref_sorted, windows)
    _, p, _ = ks_p_values(d.ravel(), [N_REF] * d.size, [N_DAY] * d.size)
    rows = p.reshape(windows, FEATURES)
    return sum(bool((adjust_p_values(row, "holm") < level).any()) for row in rows)


@pytest.fixture(scope="module")
def ref_sorted() -> np.ndarray:
    return np.sort(np.random.default_rng(2026).standard_normal(N_REF))


def test_vectorised_ks_equals_scipy(ref_sorted: np.ndarray) -> None:
    rng = np.random.default_rng(7)
    current = rng.standard_normal((5, N_DAY)) + np.array([[0.0], [0.1], [0.3], [0.0], [-0.2]])
    d = _ks_d(ref_sorted, current)
    _, p, _ = ks_p_values(d, [N_REF] * 5, [N_DAY] * 5)
    for row, d_i, p_i in zip(current, d, p, strict=True):
        expected = sps.ks_2samp(ref_sorted, row, method="auto")
        assert d_i == pytest.approx(expected.statistic, abs=1e-12)
        assert p_i == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_default_budget_levels() -> None:
    settings = AnalysisSettings()
    budget = AlertBudget()
    assert budget.windows_per_period(DAY) == pytest.approx(91.3125)
    assert window_alpha(settings) == pytest.approx(1 / 91.3125)
    assert drift_options(settings).alpha == pytest.approx(1 / 91.3125)
    # hourly windows: the same budget over 24 times as many windows
    assert drift_options(settings, timedelta(hours=1)).alpha == pytest.approx(1 / 2191.5)
    assert budget.expected_per_month(DAY) == pytest.approx(1 / 3)
    assert expected_false_alerts_per_month(DAY, 0.05) == pytest.approx(365.25 / 12 * 0.05)
    assert split_level(0.01, 10) == pytest.approx(0.001)
    assert split_level(0.01, 10, "sidak") == pytest.approx(1 - 0.99 ** (1 / 10))
    assert share_level(0.01, [3, 1]) == pytest.approx([0.0075, 0.0025])
    # no budget: the fixed per-window alpha of the setting
    fixed = AnalysisSettings.model_validate({"alert_budget": None, "alpha": 0.02})
    assert drift_options(fixed).alpha == 0.02


def test_budget_settings_from_yaml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "keeneye.yaml"
    cfg.write_text("analysis:\n  alert_budget:\n    false_alerts: 2\n    period_days: 30\n")
    settings = load_settings(cfg)
    assert window_alpha(settings.analysis) == pytest.approx(2 / 30)
    with pytest.raises(InputError, match="false_alerts"):
        AlertBudget(false_alerts=0)
    with pytest.raises(InputError, match="split"):
        AlertBudget(split="fisher")


def test_false_alerts_per_quarter_within_budget(ref_sorted: np.ndarray) -> None:
    settings = AnalysisSettings()
    level = drift_options(settings).alpha
    windows = round(AlertBudget().windows_per_period(DAY))  # 91 daily windows a quarter
    # the shortcut counts what the engine's full path counts
    for seed in range(3):
        fast = _quarter_alerts(np.random.default_rng(seed), ref_sorted, windows, 0.05)
        full = _quarter_alerts_full(np.random.default_rng(seed), ref_sorted, windows, 0.05)
        assert fast == full
    rng = np.random.default_rng(11)
    per_quarter = np.array(
        [_quarter_alerts(rng, ref_sorted, windows, level) for _ in range(QUARTERS)]
    )
    mean = per_quarter.mean()
    se = per_quarter.std(ddof=1) / math.sqrt(QUARTERS)
    closed_form = windows * holm_family_error(level, FEATURES)
    print(f"budget level {level:.5f}: {mean:.3f} ± {se:.3f} false alerts per model-quarter "
          f"(closed form {closed_form:.3f})")  # fmt: skip
    assert mean <= 1.0 + 2 * se  # the default budget: at most one per model per quarter
    assert abs(mean - closed_form) <= 3 * se
    # the old per-window alpha of 0.05 spends the budget several times over: the check can fail
    rng = np.random.default_rng(12)
    old = np.array([_quarter_alerts(rng, ref_sorted, windows, 0.05) for _ in range(QUARTERS // 4)])
    print(f"alpha 0.05: {old.mean():.2f} false alerts per model-quarter")
    assert old.mean() > 3.0
    assert old.mean() == pytest.approx(windows * holm_family_error(0.05, FEATURES), rel=0.15)


def test_budget_still_detects_shifts(ref_sorted: np.ndarray) -> None:
    level = drift_options(AnalysisSettings()).alpha
    rng = np.random.default_rng(13)
    days = 50
    d, _ = _quarter_p_values(rng, ref_sorted, days, shift=0.5)
    _, p, _ = ks_p_values(d.ravel(), [N_REF] * d.size, [N_DAY] * d.size)
    rows = p.reshape(days, FEATURES)
    flagged = sum(bool(adjust_p_values(row, "holm")[0] < level) for row in rows)
    print(f"0.5 sigma at n={N_DAY}: flagged on {flagged}/{days} days")
    assert flagged >= 0.95 * days
    # a 0.5 sigma shift at n = 10,000 through the real engine at the budget's level
    options = DriftOptions(alpha=level)
    profile = ReferenceProfile.fit(
        {"x": ref_sorted, "y": np.random.default_rng(1).exponential(size=N_REF)},
        {"x": "numeric", "y": "numeric"},
    )
    caught = 0
    for seed in range(100):
        r = np.random.default_rng(100 + seed)
        current = {"x": r.standard_normal(10_000) + 0.5, "y": r.exponential(size=10_000)}
        result = detect_drift(profile, current, options=options)
        caught += bool(result["x"].drifted_adjusted) and not result["y"].drifted_adjusted
    print(f"0.5 sigma at n=10,000: detected {caught}/100")
    assert caught == 100
