"""The estimated performance and multivariate drift of a ``keeneye.compare`` (and of the
``keeneye report`` HTML page): the window jobs' computations on two tables.

The reference is the baseline (features, ``prediction``, ``label``/``target`` and the score
columns for a classifier); the current table holds the same features, the prediction and
scores, and a label column when some labels are known (then the realized value is shown beside
the estimate).
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from keeneye.analysis.estimation import estimated_section, fit_estimator
from keeneye.analysis.multivariate import fit_multivariate, multivariate_section
from keeneye.errors import InputError
from keeneye.profile.reference import PREDICTION_COLUMN, TARGET_COLUMNS
from keeneye.profile.report import EstimatedSection, MultivariateSection
from keeneye.schema import FeatureKind
from keeneye.stats.multivariate import METHODS


def multivariate_of(
    reference: pa.Table,
    current: pa.Table,
    kinds: Mapping[str, FeatureKind | None],
    alpha: float,
) -> MultivariateSection:
    """Both multivariate tests, each at ``alpha / 2``."""
    model = fit_multivariate(reference, kinds)
    return multivariate_section(model, current, alpha / len(METHODS), METHODS)


def estimated_of(
    reference: pa.Table,
    current: pa.Table,
    kinds: Mapping[str, FeatureKind | None],
    alpha: float,
    *,
    positive_class: str | None = None,
) -> EstimatedSection:
    """CBPE or DLE fitted on ``reference``, estimated on ``current``."""
    if PREDICTION_COLUMN not in current.column_names:
        raise InputError(
            f"estimating performance needs a {PREDICTION_COLUMN!r} column in the current data"
        )
    estimator = fit_estimator(reference, kinds, positive_class=positive_class)
    if estimator is None:
        raise InputError(
            "estimating performance needs reference data with 'prediction', 'label' (or "
            "'target') and, for a classifier, the score column 'score' (positive class) or "
            "'score_<class>' per class; at least 50 labelled rows"
        )
    target = next((c for c in current.column_names if c in TARGET_COLUMNS), None)
    n = current.num_rows
    label = current.column(target) if target is not None else pa.nulls(n)
    events = pa.table({"prediction": current.column(PREDICTION_COLUMN), "label": label})
    return estimated_section(estimator, current, events, alpha, positive_class)


__all__ = ["estimated_of", "multivariate_of"]
