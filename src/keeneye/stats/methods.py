"""The table of drift methods: for each, its name, the kinds of feature it accepts, whether it
gives a p-value or a distance, its default threshold and its function.

The engine (:mod:`keeneye.stats.drift`), the options validation (:mod:`keeneye.stats.options`,
``keeneye.compare``), the documentation (:func:`markdown_table`, pasted into
docs/statistics.md and checked by a test) and the generated contract suite
(``tests/stats/test_method_contract.py``) all read this table.

The built-in methods have fast paths in the engine (one sort per window, KS p-values batched,
distances from stored bin counts). A method added with :func:`register_method` is one entry
plus its function ``(reference, current) -> TestResult`` over the finite values (numeric) or
the labels (categorical/boolean) of both sides; the engine calls it as it is.

>>> METHODS["ks"].output, METHODS["ks"].default_threshold, names_for(FeatureKind.BOOLEAN)[:2]
('p_value', 0.05, ('chi_square', 'g_test'))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from numpy.typing import ArrayLike

from keeneye.errors import InputError
from keeneye.kinds import KINDS, drift_kinds
from keeneye.schema import FeatureKind
from keeneye.stats.contingency import chi_square, g_test, proportion_z
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
from keeneye.stats.ecdf_tests import anderson_darling, cramer_von_mises
from keeneye.stats.ks import ks
from keeneye.stats.results import TestResult

MethodFunction = Callable[[ArrayLike, ArrayLike], TestResult]
Output = Literal["p_value", "distance"]
#: The kinds each family of functions tests, from the table of kinds (keeneye.kinds).
NUMERIC_KINDS = drift_kinds("numeric")
CATEGORICAL_KINDS = drift_kinds("categorical")


@dataclass(frozen=True)
class DriftMethod:
    """One drift method.

    ``numeric`` / ``categorical`` are its functions for numeric and for categorical or
    boolean features (``None``: the kind is not accepted). ``output`` says whether the
    decision reads a p-value (drift when p < threshold) or a distance (drift when the distance
    is at least the threshold). ``symmetric`` names the families (``"numeric"``,
    ``"categorical"``) where swapping the samples gives the same value. ``builtin`` methods
    have fast paths in the engine.
    """

    name: str
    output: Output
    default_threshold: float
    numeric: MethodFunction | None = None
    categorical: MethodFunction | None = None
    description: str = ""
    symmetric: frozenset[str] = field(default_factory=frozenset)
    builtin: bool = False

    @property
    def kinds(self) -> frozenset[FeatureKind]:
        """The feature kinds the method accepts."""
        out: set[FeatureKind] = set()
        if self.numeric is not None:
            out |= NUMERIC_KINDS
        if self.categorical is not None:
            out |= CATEGORICAL_KINDS
        return frozenset(out)

    def function(self, kind: FeatureKind) -> MethodFunction:
        """The method's function for features of ``kind``."""
        fn = self.numeric if kind in NUMERIC_KINDS else self.categorical
        if fn is None or kind not in self.kinds:
            raise InputError(f"method {self.name!r} does not apply to {kind.value} features")
        return fn


def _p(name: str, numeric: MethodFunction | None, categorical: MethodFunction | None,
       description: str, symmetric: frozenset[str]) -> DriftMethod:  # fmt: skip
    return DriftMethod(name, "p_value", 0.05, numeric, categorical, description, symmetric, True)


def _d(name: str, numeric: MethodFunction | None, categorical: MethodFunction | None,
       description: str, symmetric: frozenset[str]) -> DriftMethod:  # fmt: skip
    return DriftMethod(name, "distance", 0.1, numeric, categorical, description, symmetric, True)


_BOTH = frozenset({"numeric", "categorical"})
_NUM = frozenset({"numeric"})
_CAT = frozenset({"categorical"})

#: Every drift method by name, in documentation order (mutable through
#: :func:`register_method` / :func:`unregister_method` only).
METHODS: dict[str, DriftMethod] = {
    m.name: m
    for m in (
        _p("ks", ks, None, "two-sample Kolmogorov-Smirnov test (exact for small samples)", _NUM),
        _p("anderson_darling", anderson_darling, None, "k-sample Anderson-Darling test", _NUM),
        _p("cramer_von_mises", cramer_von_mises, None, "two-sample Cramér-von Mises test", _NUM),
        _p("chi_square", None, chi_square, "chi-square test of the contingency table", _CAT),
        _p("g_test", None, g_test, "G-test (log-likelihood ratio) of the contingency table", _CAT),
        _p("proportion_z", None, proportion_z, "two-proportion z-test (binary features)", _CAT),
        _d("wasserstein", wasserstein, None, "Wasserstein-1 distance / reference std", frozenset()),
        _d("psi", psi, psi_categorical, "population stability index", _CAT),
        _d(
            "jensen_shannon",
            jensen_shannon,
            jensen_shannon_categorical,
            "Jensen-Shannon distance (base 2, in [0, 1])",
            _CAT,
        ),
        _d("hellinger", hellinger, hellinger_categorical, "Hellinger distance", _CAT),
        _d(
            "kl_divergence",
            kl_divergence,
            kl_divergence_categorical,
            "Kullback-Leibler divergence of current from reference (nats)",
            frozenset(),
        ),
    )
}
#: The built-in methods (fast paths in the engine), fixed at import.
BUILTIN = frozenset(METHODS)


def register_method(method: DriftMethod) -> None:
    """Add a drift method to the table: from then on the engine, the options validation and
    ``keeneye.compare(methods=...)`` accept its name."""
    if method.name in METHODS or method.name == "auto":
        raise InputError(f"a drift method named {method.name!r} exists already")
    if not method.kinds:
        raise InputError(f"drift method {method.name!r} needs a numeric or categorical function")
    if not method.default_threshold > 0:
        raise InputError(f"drift method {method.name!r} needs a default threshold > 0")
    METHODS[method.name] = method


def unregister_method(name: str) -> None:
    """Remove a method added with :func:`register_method` (built-in ones stay)."""
    if name in BUILTIN:
        raise InputError(f"{name!r} is a built-in drift method and cannot be removed")
    METHODS.pop(name, None)


def names_for(kind: FeatureKind) -> tuple[str, ...]:
    """Names of the methods that accept features of ``kind``, in table order."""
    return tuple(m.name for m in METHODS.values() if kind in m.kinds)


def numeric_methods() -> tuple[str, ...]:
    return names_for(FeatureKind.NUMERIC)


def categorical_methods() -> tuple[str, ...]:
    return names_for(FeatureKind.CATEGORICAL)


def p_value_methods() -> frozenset[str]:
    """Methods whose decision reads a p-value."""
    return frozenset(m.name for m in METHODS.values() if m.output == "p_value")


def distance_methods() -> frozenset[str]:
    """Methods that measure a distance (usable as effect sizes when built in)."""
    return frozenset(m.name for m in METHODS.values() if m.output == "distance")


def default_thresholds() -> Mapping[str, float]:
    """The default threshold of every method."""
    return {m.name: m.default_threshold for m in METHODS.values()}


def markdown_table() -> str:
    """The methods table as Markdown (docs/statistics.md holds a copy; a test compares)."""
    lines = [
        "| method | kinds | decides by | default threshold | what it is |",
        "| --- | --- | --- | --- | --- |",
    ]
    order = [k for k in KINDS if KINDS[k].testable]
    for m in METHODS.values():
        kinds = ", ".join(k.value for k in order if k in m.kinds)
        decides = "p-value <" if m.output == "p_value" else "distance ≥"
        lines.append(
            f"| `{m.name}` | {kinds} | {decides} | {m.default_threshold:g} | {m.description} |"
        )
    return "\n".join(lines)


__all__ = [
    "BUILTIN",
    "METHODS",
    "DriftMethod",
    "categorical_methods",
    "default_thresholds",
    "distance_methods",
    "markdown_table",
    "names_for",
    "numeric_methods",
    "p_value_methods",
    "register_method",
    "unregister_method",
]
