"""Small frozen result types shared by every test, and JSON-safe conversion."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from keeneye.schema import FeatureKind

if TYPE_CHECKING:
    from keeneye.stats.options import DriftOptions


def __getattr__(name: str) -> Any:
    # The method sets come from the table of drift methods (keeneye.stats.methods); the old
    # names stay importable from here.
    if name == "P_VALUE_METHODS":
        from keeneye.stats.methods import p_value_methods

        return p_value_methods()
    if name == "DISTANCE_METHODS":
        from keeneye.stats.methods import distance_methods

        return distance_methods()
    raise AttributeError(name)


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars unwrapped and NaN/±inf replaced by ``None``.

    >>> json_safe({"a": np.float64("nan"), "b": (np.int64(2), float("inf")), "c": "x"})
    {'a': None, 'b': [2, None], 'c': 'x'}
    """
    if isinstance(value, Enum):  # FeatureKind is also a str: give the plain value
        return json_safe(value.value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str) or value is None:
        return value
    if hasattr(value, "to_dict"):
        return json_safe(value.to_dict())
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [json_safe(v) for v in items]
    return str(value)


@dataclass(frozen=True)
class TestResult:
    """The outcome of one two-sample test or distance.

    ``p_value`` is ``None`` for distances. ``details`` holds what the test needs to explain
    itself (exactness, degrees of freedom, new categories, dropped non-finite values …).

    >>> r = TestResult("ks", 0.5, 0.2, 10, 12, {"exact": True})
    >>> r.to_dict()["p_value"]
    0.2
    """

    __test__ = False  # not a pytest test class, despite the name

    method: str
    statistic: float
    p_value: float | None
    n_reference: int
    n_current: int
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (NaN and infinities become ``None``)."""
        return json_safe(
            {
                "method": self.method,
                "statistic": json_safe(self.statistic),
                "p_value": json_safe(self.p_value),
                "n_reference": self.n_reference,
                "n_current": self.n_current,
                "details": self.details,
            }
        )


#: ``FeatureDrift.decided_by`` values.
DECIDED_BY_P_VALUE = "p_value"
DECIDED_BY_EFFECT_SIZE = "effect_size"
NOT_TESTED = "not_tested"


@dataclass(frozen=True)
class FeatureDrift:
    """The drift verdict for one feature, saying which rule decided and with what threshold.

    ``method``/``statistic``/``p_value`` describe the hypothesis test (KS, chi-square …) or,
    when a distance was pinned, the distance. ``effect_size``/``effect_method`` is the
    distance used as effect size. ``decided_by`` is ``"p_value"`` (drifted when p < threshold),
    ``"effect_size"`` (drifted when effect ≥ threshold, see ``details["requires_significance"]``)
    or ``"not_tested"`` (then ``drifted`` and ``threshold`` are ``None`` and ``reason`` says
    why). ``p_value_adjusted`` is the multiple-testing-corrected p-value and
    ``drifted_adjusted`` the verdict with it, which the dataset-level verdict uses.
    """

    feature: str
    kind: FeatureKind | None  # None: a column of a type keeneye has no kind for (list, struct…)
    method: str
    statistic: float | None
    p_value: float | None
    effect_size: float | None
    effect_method: str | None
    threshold: float | None
    decided_by: str
    drifted: bool | None
    reason: str | None
    n_reference: int
    n_current: int
    details: Mapping[str, Any] = field(default_factory=dict)
    p_value_adjusted: float | None = None
    drifted_adjusted: bool | None = None

    @classmethod
    def not_tested(
        cls,
        feature: str,
        kind: FeatureKind | None,
        method: str,
        reason: str,
        n_reference: int = 0,
        n_current: int = 0,
    ) -> FeatureDrift:
        """The row of a feature that could not be tested, with ``reason`` saying why."""
        return cls(
            feature=feature,
            kind=kind,
            method=method,
            statistic=None,
            p_value=None,
            effect_size=None,
            effect_method=None,
            threshold=None,
            decided_by=NOT_TESTED,
            drifted=None,
            reason=f"not tested: {reason}",
            n_reference=n_reference,
            n_current=n_current,
        )

    @property
    def tested(self) -> bool:
        return self.drifted is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (no NaN: missing numbers are ``None``)."""
        return json_safe(
            {
                "feature": self.feature,
                "kind": json_safe(self.kind),
                "method": self.method,
                "statistic": json_safe(self.statistic),
                "p_value": json_safe(self.p_value),
                "p_value_adjusted": json_safe(self.p_value_adjusted),
                "effect_size": json_safe(self.effect_size),
                "effect_method": self.effect_method,
                "threshold": json_safe(self.threshold),
                "decided_by": self.decided_by,
                "drifted": self.drifted,
                "drifted_adjusted": self.drifted_adjusted,
                "reason": self.reason,
                "n_reference": self.n_reference,
                "n_current": self.n_current,
                "details": self.details,
            }
        )


@dataclass(frozen=True)
class DriftResults:
    """Per-feature verdicts (drifted first, then by effect size) and the dataset-level verdict.

    ``drift_share`` = drifted features / tested features (0.0 when none was tested).
    ``dataset_drifted`` is true when at least one feature drifts after the multiple-testing
    ``correction`` (or, when ``options.dataset_drift_share`` is set, when at least that share
    of the tested features drifts).
    """

    features: tuple[FeatureDrift, ...]
    dataset_drifted: bool
    drift_share: float
    n_tested: int
    n_drifted: int
    correction: str
    alpha: float
    options: DriftOptions

    def __getitem__(self, feature: str) -> FeatureDrift:
        for result in self.features:
            if result.feature == feature:
                return result
        raise KeyError(feature)

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return tuple(f.feature for f in self.features if f.drifted)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return json_safe(
            {
                "dataset_drifted": self.dataset_drifted,
                "drift_share": self.drift_share,
                "n_tested": self.n_tested,
                "n_drifted": self.n_drifted,
                "correction": self.correction,
                "alpha": self.alpha,
                "options": json_safe(self.options),
                "features": [f.to_dict() for f in self.features],
            }
        )
