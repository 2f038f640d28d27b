"""Multivariate drift per window: the drift job's ``multivariate`` result.

The baseline's numeric features (the model's score columns excluded) are fitted once per
baseline — the PCA of :class:`keeneye.stats.multivariate.PCAReconstruction`, and a seeded
subsample kept for the domain classifier. Each window is scored at its share of the window's
alert-budget level: the univariate tests (features and prediction) and the multivariate ones
split the level in proportion to their number of tests (Bonferroni across the families, so a
window's false-alert rate stays within the budget), and the multivariate share is split evenly
between the methods run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from keeneye.analysis.scores import SCORE_COLUMN, SCORE_PREFIX
from keeneye.errors import InputError
from keeneye.profile.reference import PREDICTION_COLUMN, TARGET_COLUMNS
from keeneye.profile.report import MultivariateSection
from keeneye.schema import FeatureKind
from keeneye.stats.budget import share_level
from keeneye.stats.multivariate import (
    CLASSIFIER_ROWS,
    MultivariateDrift,
    PCAReconstruction,
    domain_classifier,
)

Floats = npt.NDArray[np.float64]


def numeric_features(kinds: Mapping[str, FeatureKind | None]) -> tuple[str, ...]:
    """The baseline's numeric features that the multivariate tests (and the loss model of
    DLE) read: neither scores, nor the prediction, nor the label."""
    return tuple(
        n
        for n, k in kinds.items()
        if k is FeatureKind.NUMERIC
        and n != SCORE_COLUMN
        and not n.startswith(SCORE_PREFIX)
        and n != PREDICTION_COLUMN
        and n not in TARGET_COLUMNS
    )


def matrix(table: pa.Table, names: Sequence[str]) -> Floats:
    """``table``'s ``names`` columns as floats (NaN for missing values and absent columns)."""
    n = table.num_rows
    cols = []
    for name in names:
        if name not in table.column_names:
            cols.append(np.full(n, np.nan))
            continue
        values = table.column(name).to_pylist()
        cols.append(
            np.asarray(
                [np.nan if v is None or isinstance(v, str) else float(v) for v in values],
                dtype=np.float64,
            )
        )
    return np.column_stack(cols) if cols else np.empty((n, 0))


@dataclass(frozen=True)
class MultivariateModel:
    """What the multivariate tests need of one baseline."""

    features: tuple[str, ...]
    pca: PCAReconstruction | None
    sample: Floats
    problem: str | None = None


def fit_multivariate(
    baseline: pa.Table, kinds: Mapping[str, FeatureKind | None], *, seed: int = 0
) -> MultivariateModel:
    """Fit the PCA and keep a classifier sample of the baseline's numeric features."""
    names = numeric_features(kinds)
    x = matrix(baseline, names)
    rng = np.random.default_rng(seed)
    sample = x
    if x.shape[0] > CLASSIFIER_ROWS:
        sample = x[np.sort(rng.choice(x.shape[0], size=CLASSIFIER_ROWS, replace=False))]
    try:
        pca = PCAReconstruction.fit(x, names)
    except InputError as exc:
        return MultivariateModel(names, None, sample, problem=str(exc))
    return MultivariateModel(names, pca, sample)


def levels(level: float, univariate: int, methods: int) -> tuple[float, float]:
    """The window's ``level`` shared by ``univariate`` tests and ``methods`` multivariate ones:
    (the univariate family's level, each multivariate test's level)."""
    if methods == 0:
        return level, 0.0
    univariate_level, multivariate_level = share_level(level, [max(univariate, 1), methods])
    return univariate_level, multivariate_level / methods


def multivariate_section(
    model: MultivariateModel,
    features: pa.Table,
    level: float,
    methods: Sequence[str],
    *,
    seed: int = 0,
) -> MultivariateSection:
    """The window's multivariate tests, each at ``level``."""
    current = matrix(features, model.features)
    tests: list[MultivariateDrift] = []
    for method in methods:
        if method == "pca_reconstruction":
            if model.pca is None:
                tests.append(
                    MultivariateDrift(method, features=model.features, problem=model.problem)
                )
            else:
                tests.append(model.pca.score(current, level))
        elif method == "domain_classifier":
            if len(model.features) == 0:
                tests.append(
                    MultivariateDrift(method, problem="the baseline has no numeric feature")
                )
            else:
                tests.append(
                    domain_classifier(model.sample, current, level, names=model.features, seed=seed)
                )
    return MultivariateSection(tests=tuple(tests), level=level, events=features.num_rows)


__all__ = [
    "MultivariateModel",
    "fit_multivariate",
    "levels",
    "matrix",
    "multivariate_section",
    "numeric_features",
]
