"""Outlier scores of single events against a baseline, the share of outliers in a window, and
bursts of outliers or near-duplicate probes from one client.

Numeric features: each is standardised by the baseline's mean and standard deviation (missing
values count as the mean), and an event's score is its Mahalanobis distance
``d(x) = sqrt((z - μ)ᵀ Σ⁺ (z - μ))`` to the baseline (``Σ⁺`` the pseudo-inverse of the
covariance, so constant or collinear features do no harm). The baseline is split at random in
three: the mean and covariance are fitted on one half, the threshold is the ``quantile`` of the
distances of a quarter, and the last quarter (the *calibration* rows) measures the rate at which
the finished rule flags rows it never saw — an honest out-of-sample rate ``p₀ = k₀ / n₀``.

Categorical features: a value that is new, or rarer than ``rare_share`` in the baseline, makes
the event an outlier (counted in ``p₀`` the same way).

A window's ``k`` outliers among ``n`` events are tested against the calibration rows' ``k₀``
among ``n₀`` by the one-sided conditional binomial test: given ``k + k₀`` outliers in all,
``P(X ≥ k)`` for ``X ~ Binomial(k + k₀, n / (n + n₀))`` — the exact test of two rates of rare
events, which counts the uncertainty of ``p₀`` itself (a plain test against ``p₀`` as if it were
known raises false alerts on large windows). The level is the one the alert budget gives the
window. A client is flagged when its own outliers are that improbable for the rate
``(k₀ + 1) / (n₀ + 1)`` (Bonferroni over the window's clients) and at least ``min_outliers``,
or when ``min_duplicates`` of its events fall into a grid cell (``resolution`` baseline
standard deviations wide) that one of its earlier events in the window already occupies — the
signature of probing a model with small changes of one input.

References
----------
P. C. Mahalanobis (1936), On the generalised distance in statistics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def _binom_sf(k: int, n: int, p: float) -> float:
    """``P(X > k)`` for ``X ~ Binomial(n, p)`` (scipy imported here: a small comparison that
    scores no outliers starts without it)."""
    from scipy import stats

    return float(stats.binom.sf(k, n, p))


@dataclass(frozen=True)
class OutlierModel:
    """A baseline's fitted outlier rule (see the module docstring)."""

    numeric: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    center: tuple[float, ...]
    precision: tuple[tuple[float, ...], ...]
    threshold: float
    categorical: Mapping[str, frozenset[str]]
    expected_rate: float
    quantile: float
    #: Outliers among the calibration rows, and their number (``p₀ = k₀ / n₀``).
    baseline_outliers: int = 0
    baseline_rows: int = 0

    def standardized(self, columns: Mapping[str, Sequence[object]], n: int) -> np.ndarray:
        """The rows' numeric features standardised by the baseline (missing -> 0)."""
        out = np.zeros((n, len(self.numeric)))
        for j, name in enumerate(self.numeric):
            values = _floats(columns.get(name), n)
            z = (values - self.mean[j]) / self.scale[j]
            out[:, j] = np.where(np.isfinite(z), z, 0.0)
        return out

    def scores(self, z: np.ndarray) -> np.ndarray:
        """Mahalanobis distances of standardised rows (0 without numeric features)."""
        if not self.numeric:
            return np.zeros(z.shape[0])
        centered = z - np.asarray(self.center)
        precision = np.asarray(self.precision)
        return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", centered, precision, centered), 0.0))

    def rare(self, columns: Mapping[str, Sequence[object]], n: int) -> np.ndarray:
        """Whether each row holds a category that is new or rare in the baseline."""
        flagged = np.zeros(n, dtype=bool)
        for name, common in self.categorical.items():
            values = columns.get(name)
            if values is None:
                continue
            flagged |= np.array([v is not None and str(v) not in common for v in values])
        return flagged

    def flag(
        self, columns: Mapping[str, Sequence[object]], n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(outlier flags, standardised numeric rows) of ``n`` rows given by column."""
        z = self.standardized(columns, n)
        return (self.scores(z) > self.threshold) | self.rare(columns, n), z


def fit_outliers(
    numeric: Mapping[str, Sequence[object]],
    categorical: Mapping[str, Sequence[object]],
    *,
    quantile: float = 0.99,
    rare_share: float = 0.001,
    seed: int = 0,
) -> OutlierModel:
    """Fit the outlier rule on baseline columns (all of the same length, at least 40 rows).

    Raises :class:`ValueError` when the baseline is too small to split.
    """
    lengths = {len(v) for v in (*numeric.values(), *categorical.values())}
    if len(lengths) != 1:
        raise ValueError("baseline columns of the outlier model must have one length")
    n = lengths.pop()
    if n < 40:
        raise ValueError(f"the baseline has {n} rows; the outlier model needs at least 40")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    fit_rows, cut_rows, held_rows = order[: n // 2], order[n // 2 : 3 * n // 4], order[3 * n // 4 :]
    names = tuple(numeric)
    raw = np.column_stack([_floats(numeric[c], n) for c in names]) if names else np.zeros((n, 0))
    mean = np.array([_nanmean(raw[fit_rows, j]) for j in range(len(names))])
    scale = np.array([_nanstd(raw[fit_rows, j]) for j in range(len(names))])
    z = np.where(np.isfinite(raw), (raw - mean) / scale, 0.0)
    center = z[fit_rows].mean(axis=0) if names else np.zeros(0)
    cov = np.atleast_2d(np.cov(z[fit_rows], rowvar=False)) if names else np.zeros((0, 0))
    precision = np.linalg.pinv(cov) if names else cov
    common: dict[str, frozenset[str]] = {}
    for name, values in categorical.items():
        counted: dict[str, int] = {}
        for i in fit_rows:
            v = values[i]
            if v is not None:
                counted[str(v)] = counted.get(str(v), 0) + 1
        common[name] = frozenset(k for k, c in counted.items() if c > rare_share * len(fit_rows))
    model = OutlierModel(
        numeric=names,
        mean=tuple(float(m) for m in mean),
        scale=tuple(float(s) for s in scale),
        center=tuple(float(c) for c in center),
        precision=tuple(tuple(float(x) for x in row) for row in precision),
        threshold=0.0,
        categorical=common,
        expected_rate=0.0,
        quantile=quantile,
    )
    threshold = float(np.quantile(model.scores(z[cut_rows]), quantile)) if names else float("inf")
    held_columns = {k: [v[i] for i in held_rows] for k, v in categorical.items()}
    rare = model.rare(held_columns, len(held_rows))
    flagged = (model.scores(z[held_rows]) > threshold) | rare
    k0, n0 = int(flagged.sum()), len(held_rows)
    return _replace(
        model,
        threshold=threshold,
        expected_rate=k0 / n0,
        baseline_outliers=k0,
        baseline_rows=n0,
    )


@dataclass(frozen=True)
class ShareTest:
    """The window's outlier share against the baseline's calibration rows (one-sided
    conditional binomial test, see the module docstring)."""

    n: int
    outliers: int
    share: float
    expected: float
    p_value: float
    alpha: float
    alert: bool


def share_test(
    outliers: int, n: int, baseline_outliers: int, baseline_rows: int, alpha: float
) -> ShareTest:
    """``P(X ≥ k)`` for ``X ~ Binomial(k + k₀, n / (n + n₀))``; alert when below ``alpha``.

    >>> from scipy import stats
    >>> t = share_test(30, 1000, 10, 1000, 0.01)
    >>> t.alert, round(t.p_value, 10) == round(float(stats.binom.sf(29, 40, 0.5)), 10)
    (True, True)
    >>> share_test(12, 1000, 10, 1000, 0.01).alert
    False
    """
    if baseline_rows <= 0:
        raise ValueError("the baseline's calibration rows are needed (baseline_rows > 0)")
    total = outliers + baseline_outliers
    p = _binom_sf(outliers - 1, total, n / (n + baseline_rows)) if n and outliers else 1.0
    share = outliers / n if n else 0.0
    expected = baseline_outliers / baseline_rows
    return ShareTest(n, outliers, share, expected, p, alpha, bool(n and p < alpha))


@dataclass(frozen=True)
class ClientBurst:
    """One client flagged in a window: its events, outliers, near-duplicates and why."""

    client: str
    events: int
    outliers: int
    near_duplicates: int
    p_value: float
    reason: str


def bursts(
    clients: Sequence[object],
    flags: np.ndarray,
    z: np.ndarray,
    expected: float,
    alpha: float,
    *,
    min_outliers: int = 10,
    min_duplicates: int = 20,
    resolution: float = 0.1,
) -> tuple[ClientBurst, ...]:
    """Clients sending improbably many outliers, or many near-duplicates of their own earlier
    events (rows given in arrival order); most suspicious first."""
    by_client: dict[str, list[int]] = {}
    for i, c in enumerate(clients):
        if c is not None:
            by_client.setdefault(str(c), []).append(i)
    if not by_client:
        return ()
    level = alpha / len(by_client)
    cells = np.floor(z / resolution).astype(np.int64) if z.size else np.zeros((len(flags), 0))
    found: list[ClientBurst] = []
    for client, rows in by_client.items():
        k = int(flags[rows].sum())
        p = _binom_sf(k - 1, len(rows), expected) if k else 1.0
        seen: set[bytes] = set()
        duplicates = 0
        for i in rows:
            cell = cells[i].tobytes()
            if cell in seen:
                duplicates += 1
            seen.add(cell)
        reasons = []
        if k >= min_outliers and p < level:
            reasons.append(f"{k} outliers in {len(rows)} events")
        if cells.shape[1] and duplicates >= min_duplicates:
            reasons.append(f"{duplicates} near-duplicate events")
        if reasons:
            found.append(ClientBurst(client, len(rows), k, duplicates, p, "; ".join(reasons)))
    found.sort(key=lambda b: (b.p_value, -b.near_duplicates, b.client))
    return tuple(found)


def _floats(values: Sequence[object] | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    out = np.full(n, np.nan)
    for i, v in enumerate(values):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[i] = float(v)
    return out


def _nanmean(x: np.ndarray) -> float:
    finite = x[np.isfinite(x)]
    return float(finite.mean()) if finite.size else 0.0


def _nanstd(x: np.ndarray) -> float:
    finite = x[np.isfinite(x)]
    sd = float(finite.std()) if finite.size > 1 else 0.0
    return sd if sd > 0 else 1.0


def _replace(model: OutlierModel, **changes: object) -> OutlierModel:
    from dataclasses import replace

    return replace(model, **changes)  # type: ignore[arg-type]


__all__ = [
    "ClientBurst",
    "OutlierModel",
    "ShareTest",
    "bursts",
    "fit_outliers",
    "share_test",
]
