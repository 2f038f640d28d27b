"""The drift decision rule's settings and its documented defaults."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from keeneye.errors import InputError
from keeneye.schema import FeatureKind
from keeneye.stats.correction import CORRECTIONS
from keeneye.stats.methods import METHODS, names_for

#: Method names a feature can be pinned to, per family of kinds (the built-in entries of the
#: table of drift methods, :mod:`keeneye.stats.methods`; methods registered later are
#: accepted too, see :func:`keeneye.stats.methods.names_for`). "auto" is the default rule.
AUTO = "auto"
NUMERIC_METHODS = names_for(FeatureKind.NUMERIC)
CATEGORICAL_METHODS = names_for(FeatureKind.CATEGORICAL)

#: Effect-size thresholds: drift when the distance is at least this large (the default
#: thresholds of the table's distances).
#: Wasserstein is normed by the reference std (0.1 = a tenth of a standard deviation of
#: transport); Jensen–Shannon is the base-2 distance in [0, 1]; PSI 0.1 is the usual
#: "moderate shift" bound (Siddiqi 2006); the same 0.1 is used for Hellinger and KL (nats).
DEFAULT_EFFECT_THRESHOLDS: Mapping[str, float] = {
    m.name: m.default_threshold for m in METHODS.values() if m.output == "distance"
}

#: Effective sample size n_ref·n_cur/(n_ref+n_cur) above which the effect size decides.
#: Reasoning (docs/statistics.md): at n_eff ≈ 1000 a 5 % KS test already detects a mean shift
#: of ~0.1 σ (D ≈ 0.4·δ vs the critical 1.36/sqrt(n_eff)), i.e. the effect threshold; above it,
#: p-values flag ever smaller, practically irrelevant differences.
DEFAULT_EFFECT_SIZE_FROM_N = 1000.0


@dataclass(frozen=True)
class DriftOptions:
    """Settings of the drift decision rule.

    Attributes
    ----------
    alpha
        Significance level of the p-value rule (drift when p < alpha).
    effect_size_from_n
        Cut-over on the effective sample size n_ref·n_cur/(n_ref+n_cur): at or below it the
        p-value decides, above it the effect size does.
    numeric_effect, categorical_effect
        Distances used as effect sizes (``"wasserstein"`` = normed by the reference std).
    effect_thresholds
        Threshold per distance; unspecified distances keep the defaults.
    require_significance
        Above the cut-over, also require p < alpha. At large n this never vetoes a real
        effect, but it stops sampling noise of a distance (large with many categories) from
        exceeding the nominal false-positive rate.
    correction
        Multiple-testing correction for the dataset-level verdict: ``"holm"`` (default),
        ``"bonferroni"``, ``"bh"`` or ``"none"``.
    dataset_drift_share
        If set, the dataset drifts when at least this share of tested features drifts
        (Evidently's rule) instead of "any feature drifts after correction".
    chi_square_correction
        Yates' continuity correction for 2×2 tables (binary columns).

    >>> DriftOptions(alpha=0.01).threshold_for("psi")
    0.1
    """

    alpha: float = 0.05
    effect_size_from_n: float = DEFAULT_EFFECT_SIZE_FROM_N
    numeric_effect: str = "wasserstein"
    categorical_effect: str = "jensen_shannon"
    effect_thresholds: Mapping[str, float] = field(default_factory=dict)
    require_significance: bool = True
    correction: str = "holm"
    dataset_drift_share: float | None = None
    chi_square_correction: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise InputError(f"alpha must be in (0, 1), got {self.alpha!r}")
        if not self.effect_size_from_n >= 0:
            raise InputError(
                f"effect_size_from_n must be >= 0 (use math.inf to always decide by p-value), "
                f"got {self.effect_size_from_n!r}"
            )
        if self.numeric_effect not in DEFAULT_EFFECT_THRESHOLDS:
            raise InputError(
                f"numeric_effect {self.numeric_effect!r} is not a distance; use one of "
                f"{', '.join(DEFAULT_EFFECT_THRESHOLDS)}"
            )
        if self.categorical_effect not in DEFAULT_EFFECT_THRESHOLDS or (
            self.categorical_effect == "wasserstein"
        ):
            raise InputError(
                f"categorical_effect {self.categorical_effect!r} is not a categorical distance; "
                "use jensen_shannon, psi, hellinger or kl_divergence"
            )
        for name, value in self.effect_thresholds.items():
            if name not in DEFAULT_EFFECT_THRESHOLDS:
                raise InputError(f"effect_thresholds has unknown distance {name!r}")
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise InputError(f"effect threshold for {name} must be a number > 0, got {value!r}")
        if self.correction not in CORRECTIONS:
            raise InputError(
                f"unknown correction {self.correction!r}; use one of {', '.join(CORRECTIONS)}"
            )
        share = self.dataset_drift_share
        if share is not None and not 0.0 < share <= 1.0:
            raise InputError(f"dataset_drift_share must be in (0, 1], got {share!r}")

    def threshold_for(self, distance: str) -> float:
        """The effect-size threshold of a distance."""
        return float(self.effect_thresholds.get(distance, DEFAULT_EFFECT_THRESHOLDS[distance]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "effect_size_from_n": self.effect_size_from_n,
            "numeric_effect": self.numeric_effect,
            "categorical_effect": self.categorical_effect,
            "effect_thresholds": {
                name: self.threshold_for(name) for name in DEFAULT_EFFECT_THRESHOLDS
            },
            "require_significance": self.require_significance,
            "correction": self.correction,
            "dataset_drift_share": self.dataset_drift_share,
            "chi_square_correction": self.chi_square_correction,
        }
