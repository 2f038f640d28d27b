"""The outlier rule: Mahalanobis distance as scipy computes it, the held-out threshold gives
clean traffic the baseline's rate, the share test stays within the alert budget on clean
windows and flags injected out-of-distribution rows, and probe bursts are found."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import mahalanobis

from keeneye.stats.budget import DAY, AlertBudget
from keeneye.stats.outliers import bursts, fit_outliers, share_test

D = 4
ALPHA = AlertBudget().window_level(DAY)  # a daily window's level of the default budget


def gaussian(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, list[object]]:
    cov = np.full((D, D), 0.5) + 0.5 * np.eye(D)  # correlated features
    x = rng.multivariate_normal(np.zeros(D), cov, n) * [1, 10, 100, 0.1] + shift
    return {f"x{j}": x[:, j].tolist() for j in range(D)}


def categories(rng: np.random.Generator, n: int) -> dict[str, list[object]]:
    return {"plan": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]).tolist()}


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    return fit_outliers(gaussian(rng, 20_000), categories(rng, 20_000), quantile=0.99)


def test_score_is_the_mahalanobis_distance(model) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    rows = gaussian(rng, 5)
    z = model.standardized(rows, 5)
    got = model.scores(z)
    vi = np.asarray(model.precision)
    for i in range(5):
        assert got[i] == pytest.approx(mahalanobis(z[i], model.center, vi), rel=1e-9)


@pytest.mark.parametrize(("windows", "n"), [(400, 500), (20, 40_000)])
def test_clean_traffic_has_the_baseline_rate_and_stays_within_the_budget(
    model,  # type: ignore[no-untyped-def]
    windows: int,
    n: int,
) -> None:
    rng = np.random.default_rng(2)
    alerts, flagged = 0, 0
    for _ in range(windows):
        rows = {**gaussian(rng, n), **categories(rng, n)}
        flags, _ = model.flag(rows, n)
        flagged += int(flags.sum())
        test = share_test(int(flags.sum()), n, model.baseline_outliers, model.baseline_rows, ALPHA)
        alerts += test.alert
    rate = flagged / (windows * n)
    p0, n0 = model.expected_rate, model.baseline_rows
    # near the nominal 1 - quantile (the threshold is itself estimated from 5,000 rows), and
    # the calibration rows give clean traffic's rate (within both sampling errors)
    assert p0 == pytest.approx(0.01, abs=0.006)
    assert abs(rate - p0) < 4 * np.sqrt(p0 / n0 + p0 / (windows * n)), (rate, p0)
    # false alerts: at most what the budget allows, with room for chance: the count a
    # Binomial(windows, α) exceeds with probability 1e-5 — large windows too, since the test
    # counts the uncertainty of the baseline's own rate
    limit = int(stats.binom.isf(1e-5, windows, ALPHA))
    assert alerts <= limit, (alerts, limit)


def test_injected_out_of_distribution_rows_raise_the_share(model) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    clean = {**gaussian(rng, 500), **categories(rng, 500)}
    bad = {**gaussian(rng, 25, shift=0.0), "plan": ["zzz"] * 25}  # a category never seen
    far = gaussian(rng, 25)
    far["x0"] = [8.0] * 25  # eight standard deviations out
    rows = {k: clean[k] + bad[k] + far.get(k, ["a"] * 25) for k in clean}
    flags, _ = model.flag(rows, 550)
    assert flags[500:].all()
    k0, n0 = model.baseline_outliers, model.baseline_rows
    test = share_test(int(flags.sum()), 550, k0, n0, ALPHA)
    total = test.outliers + k0
    assert test.alert and test.p_value == pytest.approx(
        stats.binom.sf(test.outliers - 1, total, 550 / (550 + n0))
    )
    assert not share_test(int(flags[:500].sum()), 500, k0, n0, ALPHA).alert


def test_a_probe_burst_from_one_client_is_flagged(model) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    n = 1000
    rows = {**gaussian(rng, n), **categories(rng, n)}
    clients: list[object] = [f"c{i % 50}" for i in range(n)]
    # the prober: 40 near-identical requests that walk one feature in tiny steps
    probe = {k: [v[0]] * 40 for k, v in rows.items()}
    probe["x1"] = [rows["x1"][0] + 0.001 * j for j in range(40)]
    rows = {k: rows[k] + probe[k] for k in rows}
    clients += ["mallory"] * 40
    flags, z = model.flag(rows, n + 40)
    found = bursts(clients, flags, z, model.expected_rate, ALPHA, min_duplicates=20)
    assert [b.client for b in found] == ["mallory"]
    assert found[0].near_duplicates == 39 and "near-duplicate" in found[0].reason
    # an outlier burst: one client whose requests are all far out
    far = {k: list(v[:n]) for k, v in rows.items()}
    far["x0"] = far["x0"][: n - 30] + [9.0 + j for j in range(30)]
    clients2: list[object] = [f"c{i % 50}" for i in range(n - 30)] + ["eve"] * 30
    flags2, z2 = model.flag(far, n)
    found2 = bursts(clients2, flags2, z2, model.expected_rate, ALPHA, min_duplicates=20)
    assert [b.client for b in found2] == ["eve"] and found2[0].outliers == 30


def test_too_small_a_baseline() -> None:
    with pytest.raises(ValueError, match="at least 40"):
        fit_outliers({"x": [1.0] * 5}, {})
