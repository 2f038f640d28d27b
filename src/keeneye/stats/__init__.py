"""keeneye's statistics: pure functions over arrays returning small frozen results.

Two-sample tests and distances (:func:`ks`, :func:`chi_square`, :func:`psi` …), one-column
summaries and quality checks, multiple-testing correction, and the drift engine: fit a
:class:`ReferenceProfile` once per baseline, then call :func:`detect_drift` for every window.
See docs/statistics.md for every formula, reference and default threshold.
"""

from __future__ import annotations

from keeneye.stats.contingency import chi_square, g_test, proportion_z
from keeneye.stats.correction import adjust_p_values
from keeneye.stats.distance import (
    hellinger,
    hellinger_categorical,
    jensen_shannon,
    jensen_shannon_categorical,
    kl_divergence,
    kl_divergence_categorical,
    psi,
    psi_categorical,
    wasserstein,
)
from keeneye.stats.drift import detect_drift
from keeneye.stats.ecdf_tests import anderson_darling, cramer_von_mises
from keeneye.stats.ks import ks
from keeneye.stats.options import (
    CATEGORICAL_METHODS,
    DEFAULT_EFFECT_SIZE_FROM_N,
    DEFAULT_EFFECT_THRESHOLDS,
    NUMERIC_METHODS,
    DriftOptions,
)
from keeneye.stats.profile import ReferenceProfile
from keeneye.stats.quality import QualityReport, check_quality, check_quality_sorted
from keeneye.stats.results import DriftResults, FeatureDrift, TestResult
from keeneye.stats.summary import QUANTILES, ColumnSummary, summarize, summarize_sorted

__all__ = [
    "CATEGORICAL_METHODS",
    "DEFAULT_EFFECT_SIZE_FROM_N",
    "DEFAULT_EFFECT_THRESHOLDS",
    "NUMERIC_METHODS",
    "QUANTILES",
    "ColumnSummary",
    "DriftOptions",
    "DriftResults",
    "FeatureDrift",
    "QualityReport",
    "ReferenceProfile",
    "TestResult",
    "adjust_p_values",
    "anderson_darling",
    "check_quality",
    "check_quality_sorted",
    "chi_square",
    "cramer_von_mises",
    "detect_drift",
    "g_test",
    "hellinger",
    "hellinger_categorical",
    "jensen_shannon",
    "jensen_shannon_categorical",
    "kl_divergence",
    "kl_divergence_categorical",
    "ks",
    "proportion_z",
    "psi",
    "psi_categorical",
    "summarize",
    "summarize_sorted",
    "wasserstein",
]
