"""The contract every drift method of the table keeps, generated from the table (river-style
checks): range, symmetry where it holds, no drift on a copy, drift on a shift, and NaN, empty
and constant inputs handled (counted or refused with keeneye's error), never a crash. Adding a
method is one table entry plus its function, shown by a toy method registered here."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

import keeneye
from keeneye.errors import InputError, KeeneyeError
from keeneye.schema import FeatureKind
from keeneye.stats import ReferenceProfile, detect_drift
from keeneye.stats.methods import (
    METHODS,
    DriftMethod,
    markdown_table,
    names_for,
    register_method,
    unregister_method,
)
from keeneye.stats.results import TestResult

CASES = [
    (name, family)
    for name, method in METHODS.items()
    for family, fn in (("numeric", method.numeric), ("categorical", method.categorical))
    if fn is not None
]


def samples(family: str, seed: int, shift: bool = False, n: int = 600) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if family == "numeric":
        return rng.normal(1.0 if shift else 0.0, 1.0, n)
    p = [0.2, 0.8] if shift else [0.5, 0.5]
    return rng.choice(np.array(["a", "b"], dtype=object), n, p=p)


def run(name: str, family: str, a: np.ndarray, b: np.ndarray) -> TestResult:
    kind = FeatureKind.NUMERIC if family == "numeric" else FeatureKind.CATEGORICAL
    return METHODS[name].function(kind)(a, b)


def drifted(name: str, result: TestResult) -> bool:
    method = METHODS[name]
    if method.output == "p_value":
        assert result.p_value is not None
        return result.p_value < method.default_threshold
    return result.statistic >= method.default_threshold


@pytest.mark.parametrize(("name", "family"), CASES)
def test_range(name: str, family: str) -> None:
    result = run(name, family, samples(family, 1), samples(family, 2))
    assert math.isfinite(result.statistic)
    if METHODS[name].output == "p_value":
        assert result.p_value is not None and 0.0 <= result.p_value <= 1.0
    else:
        assert result.p_value is None and result.statistic >= 0.0


@pytest.mark.parametrize(("name", "family"), CASES)
def test_symmetry_where_it_holds(name: str, family: str) -> None:
    a, b = samples(family, 3), samples(family, 4, shift=True, n=400)
    forward, backward = run(name, family, a, b), run(name, family, b, a)
    if family in METHODS[name].symmetric:
        assert abs(forward.statistic) == pytest.approx(abs(backward.statistic), rel=1e-9)
        if forward.p_value is not None:
            assert forward.p_value == pytest.approx(backward.p_value, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("name", "family"), CASES)
def test_no_drift_on_a_copy(name: str, family: str) -> None:
    a = samples(family, 5)
    assert not drifted(name, run(name, family, a, a.copy()))


@pytest.mark.parametrize(("name", "family"), CASES)
def test_drift_on_a_shift(name: str, family: str) -> None:
    result = run(name, family, samples(family, 6), samples(family, 7, shift=True))
    assert drifted(name, result)


@pytest.mark.parametrize(("name", "family"), CASES)
def test_nan_empty_and_constant_inputs_are_handled(name: str, family: str) -> None:
    a = samples(family, 8)
    if family == "numeric":
        with_nan = np.concatenate([samples(family, 9), [np.nan, np.inf, -np.inf]])
        result = run(name, family, a, with_nan)
        assert math.isfinite(result.statistic) and result.n_current == 600  # non-finite dropped
        constant = np.full(50, 2.0)
    else:
        with_missing = np.concatenate([samples(family, 9), np.array([None, None], dtype=object)])
        result = run(name, family, a, with_missing)
        assert math.isfinite(result.statistic)
        constant = np.array(["a"] * 50, dtype=object)
    with pytest.raises(InputError, match=r"no (finite|non-missing) values"):
        run(name, family, np.array([], dtype=a.dtype), a)
    try:
        outcome = run(name, family, constant, constant.copy())
    except KeeneyeError as exc:  # refused with a message, never a crash
        assert str(exc)
    else:
        assert math.isfinite(outcome.statistic) or outcome.statistic is None


def test_docs_list_every_method_of_the_table() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "statistics.md").read_text()
    assert markdown_table() in docs, "regenerate the table with keeneye.stats.methods"


# -- a new method is one table entry plus its function -------------------------------------------


def mean_gap(reference: object, current: object) -> TestResult:
    """Toy distance: |mean(current) - mean(reference)| in reference standard deviations."""
    a, b = np.asarray(reference, float), np.asarray(current, float)
    if a.size == 0 or b.size == 0:
        raise InputError("mean_gap: no finite values")
    return TestResult("mean_gap", abs(b.mean() - a.mean()) / a.std(), None, a.size, b.size)


def welch(reference: object, current: object) -> TestResult:
    """Toy test: Welch's t-test (scipy), a p-value method."""
    a, b = np.asarray(reference, float), np.asarray(current, float)
    t = sps.ttest_ind(a, b, equal_var=False)
    return TestResult("welch", float(t.statistic), float(t.pvalue), a.size, b.size)


@pytest.fixture
def toy_methods() -> Iterator[None]:
    register_method(DriftMethod("mean_gap", "distance", 0.2, numeric=mean_gap))
    register_method(DriftMethod("welch", "p_value", 0.01, numeric=welch))
    yield
    unregister_method("mean_gap")
    unregister_method("welch")


def test_a_registered_method_runs_through_engine_and_compare(toy_methods: None) -> None:
    assert "mean_gap" in names_for(FeatureKind.NUMERIC)
    assert "mean_gap" not in names_for(FeatureKind.CATEGORICAL)
    ref, cur = samples("numeric", 10), samples("numeric", 11, shift=True)
    profile = ReferenceProfile.fit({"x": ref}, {"x": "numeric"})
    row = detect_drift(profile, {"x": cur}, methods={"x": "mean_gap"})["x"]
    assert row.method == "mean_gap" and row.decided_by == "effect_size"
    assert row.threshold == 0.2 and row.drifted is True
    assert row.statistic == pytest.approx(abs(cur.mean() - ref.mean()) / ref.std())
    # keeneye.compare accepts the name; the p-value method decides by its p-value (scipy's)
    report = keeneye.compare({"x": ref}, {"x": cur}, methods="welch")
    expected = sps.ttest_ind(np.sort(ref), np.sort(cur), equal_var=False).pvalue
    assert report["x"].method == "welch" and report["x"].decided_by == "p_value"
    assert report["x"].p_value == pytest.approx(expected, rel=1e-9)
    assert report["x"].drifted_adjusted is True
    with pytest.raises(InputError, match="does not apply to categorical"):
        METHODS["mean_gap"].function(FeatureKind.CATEGORICAL)


def test_method_names_are_unique_and_built_ins_stay() -> None:
    with pytest.raises(InputError, match="exists already"):
        register_method(DriftMethod("ks", "p_value", 0.05, numeric=welch))
    with pytest.raises(InputError, match="built-in"):
        unregister_method("ks")
