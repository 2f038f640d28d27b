"""The drift engine: scipy-exact per column, the documented decision rule, calibration, edges."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from keeneye.errors import ColumnError, InputError
from keeneye.schema import FeatureKind
from keeneye.stats import (
    DriftOptions,
    ReferenceProfile,
    detect_drift,
    psi,
    wasserstein,
)

REL = 1e-9
LABELS = np.array(["red", "green", "blue", "grey"], dtype=object)


def scipy_ks(a: object, b: object) -> object:
    with warnings.catch_warnings():
        # scipy warns when its exact recursion fails and it switches to asymptotic; keeneye
        # switches the same way and records details["exact"] = False.
        warnings.simplefilter("ignore", RuntimeWarning)
        return sps.ks_2samp(a, b)


def table(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    cats = sorted(set(ref.tolist()) | set(cur.tolist()))
    return np.array([[np.sum(ref == c) for c in cats], [np.sum(cur == c) for c in cats]])


def dataset(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    probabilities = np.array([0.4, 0.3, 0.2, 0.1])
    if shift:
        probabilities = np.array([0.25, 0.3, 0.25, 0.2])
    return {
        "normal": rng.normal(shift, 1.0, n),
        "skewed": rng.exponential(1.0, n) + shift,
        "integers": rng.poisson(3.0, n).astype(float) + round(shift * 2),  # heavy ties
        "colour": LABELS[rng.choice(4, n, p=probabilities)],
        "flag": rng.random(n) < (0.3 + shift / 5),
    }


KINDS = {
    "normal": "numeric",
    "skewed": "numeric",
    "integers": "numeric",
    "colour": "categorical",
    "flag": "boolean",
}


@pytest.mark.parametrize(
    ("n_ref", "n_cur"), [(5, 5), (300, 200), (20_000, 30_000), (60_000, 700), (400, 50_000)]
)
def test_engine_statistics_equal_scipy_per_column(n_ref: int, n_cur: int) -> None:
    rng = np.random.default_rng(n_ref)
    ref, cur = dataset(rng, n_ref), dataset(rng, n_cur, shift=0.2)
    results = detect_drift(ReferenceProfile.fit(ref, KINDS), cur)
    for name in ("normal", "skewed", "integers"):
        r = results[name]
        expected = scipy_ks(ref[name], cur[name])
        assert r.method == "ks"
        assert r.statistic == pytest.approx(expected.statistic, rel=REL)
        assert r.p_value == pytest.approx(expected.pvalue, rel=REL, abs=1e-300)
        assert r.effect_size == pytest.approx(wasserstein(ref[name], cur[name]).statistic, rel=REL)
    for name in ("colour", "flag"):
        r = results[name]
        if not r.tested:  # n=5 may see a single category on both sides
            assert r.reason is not None and "constant" in r.reason
            continue
        expected = sps.chi2_contingency(table(ref[name], cur[name]))
        assert r.method == "chi_square"
        assert r.statistic == pytest.approx(expected.statistic, rel=REL)
        assert r.p_value == pytest.approx(expected.pvalue, rel=REL)


def test_rule_below_and_above_the_cut_over() -> None:
    rng = np.random.default_rng(0)
    profile = ReferenceProfile.fit(dataset(rng, 4_000), KINDS)
    small = detect_drift(profile, dataset(rng, 500))  # n_eff = 444 <= 1000
    large = detect_drift(profile, dataset(rng, 4_000))  # n_eff = 2000 > 1000
    for r in small.features:
        assert (r.decided_by, r.threshold) == ("p_value", 0.05)
        assert r.details["n_effective"] <= 1000
    for r in large.features:
        assert r.decided_by == "effect_size"
        assert r.threshold == 0.1
        assert r.effect_method == (
            "wasserstein" if r.kind is FeatureKind.NUMERIC else "jensen_shannon"
        )
        assert r.details["requires_significance"] is True


def test_half_sigma_shift_at_10000_is_flagged() -> None:
    rng = np.random.default_rng(42)
    profile = ReferenceProfile.fit({"x": rng.normal(0, 1, 10_000)}, {"x": "numeric"})
    result = detect_drift(profile, {"x": rng.normal(0.5, 1, 10_000)})
    r = result["x"]
    assert r.drifted and r.decided_by == "effect_size"
    assert r.effect_size == pytest.approx(0.5, abs=0.05)
    assert result.dataset_drifted


def test_default_rule_false_positive_rate_at_most_nominal_over_seeds() -> None:
    """200 seeds of i.i.d. splits, 5 features each, at sizes where the p-value decides."""
    alpha = DriftOptions().alpha
    seeds = 200
    feature_flags = dataset_flags = trials = 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        ref, cur = dataset(rng, 150), dataset(rng, 120)
        result = detect_drift(ReferenceProfile.fit(ref, KINDS), cur)
        tested = [r for r in result.features if r.tested]
        trials += len(tested)
        feature_flags += sum(bool(r.drifted) for r in tested)
        dataset_flags += result.dataset_drifted
    # Nominal rate alpha, allowing binomial sampling error (one-sided 99.9 % bound).
    assert feature_flags <= sps.binom.ppf(0.999, trials, alpha), feature_flags / trials
    assert dataset_flags <= sps.binom.ppf(0.999, seeds, alpha), dataset_flags / seeds
    # And the observed rates themselves (about 0.04 each with these seeds) stay below alpha.
    assert feature_flags / trials <= alpha
    assert dataset_flags / seeds <= alpha


def test_effect_size_branch_does_not_flag_iid_splits_at_large_n() -> None:
    for seed in range(4):
        rng = np.random.default_rng(1_000 + seed)
        ref, cur = dataset(rng, 30_000), dataset(rng, 30_000)
        result = detect_drift(ReferenceProfile.fit(ref, KINDS), cur)
        assert not result.dataset_drifted
        for r in result.features:
            assert r.decided_by == "effect_size" and r.drifted is False
            assert r.effect_size is not None and r.effect_size < 0.5 * r.threshold  # type: ignore[operator]


def test_significance_gate_keeps_high_cardinality_noise_out() -> None:
    rng = np.random.default_rng(3)
    labels = np.array([f"c{i}" for i in range(400)], dtype=object)
    ref, cur = labels[rng.integers(0, 400, 3_000)], labels[rng.integers(0, 400, 3_000)]
    profile = ReferenceProfile.fit({"city": ref}, {"city": "categorical"})
    gated = detect_drift(profile, {"city": cur})["city"]
    assert gated.effect_size > 0.1  # sampling noise alone exceeds the JS threshold …
    assert gated.drifted is False  # … but the test is not significant
    ungated = detect_drift(
        profile, {"city": cur}, options=DriftOptions(require_significance=False)
    )["city"]
    assert ungated.drifted is True


def test_pinned_methods_and_thresholds() -> None:
    rng = np.random.default_rng(5)
    ref, cur = dataset(rng, 3_000), dataset(rng, 3_000, shift=0.3)
    profile = ReferenceProfile.fit(ref, KINDS)
    results = detect_drift(
        profile,
        cur,
        methods={
            "normal": "psi",
            "skewed": "anderson_darling",
            "colour": "g_test",
            "flag": "proportion_z",
        },
        thresholds={"normal": 0.5, "colour": 0.001},
    )
    pinned_psi = results["normal"]
    assert (pinned_psi.method, pinned_psi.decided_by, pinned_psi.threshold) == (
        "psi",
        "effect_size",
        0.5,
    )
    assert pinned_psi.statistic == pytest.approx(
        psi(ref["normal"], cur["normal"]).statistic, rel=REL
    )
    assert pinned_psi.p_value is None
    assert results["skewed"].method == "anderson_darling"
    assert results["skewed"].decided_by == "p_value"
    g = results["colour"]
    expected = sps.chi2_contingency(table(ref["colour"], cur["colour"]), lambda_="log-likelihood")
    assert (g.method, g.threshold) == ("g_test", 0.001)
    assert g.statistic == pytest.approx(expected.statistic, rel=REL)
    z = results["flag"]
    chi2 = sps.chi2_contingency(table(ref["flag"], cur["flag"]), correction=False)
    assert z.method == "proportion_z"
    assert z.p_value == pytest.approx(chi2.pvalue, rel=REL)


def test_invalid_pins_name_the_column() -> None:
    profile = ReferenceProfile.fit({"x": np.arange(10.0)}, {"x": "numeric"})
    with pytest.raises(ColumnError, match=r"'x'.*'chi_square' does not apply to numeric"):
        detect_drift(profile, {"x": np.arange(10.0)}, methods={"x": "chi_square"})
    with pytest.raises(ColumnError, match=r"'y'.*not in the reference profile"):
        detect_drift(profile, {"x": np.arange(10.0)}, methods={"y": "ks"})
    with pytest.raises(ColumnError, match=r"'x'.*threshold must be a number > 0"):
        detect_drift(profile, {"x": np.arange(10.0)}, thresholds={"x": -1.0})
    with pytest.raises(ColumnError, match=r"'z'.*no feature kind"):
        ReferenceProfile.fit({"z": np.arange(3.0)}, {})
    with pytest.raises(ColumnError, match="unknown feature kind 'number'"):
        ReferenceProfile.fit({"z": np.arange(3.0)}, {"z": "number"})
    with pytest.raises(InputError, match="alpha must be in"):
        DriftOptions(alpha=1.5)


def test_bad_columns_are_not_tested_with_a_reason_never_a_crash() -> None:
    n = 200
    rng = np.random.default_rng(9)
    ref = {
        "all_nan": np.full(n, np.nan),
        "empty_cur": rng.normal(size=n),
        "const": np.full(n, 3.0),
        "const_cat": np.array(["a"] * n, dtype=object),
        "mixed": np.array([1.0, "x"] * (n // 2), dtype=object),
        "mixed_cat": np.array(["a", 1] * (n // 2), dtype=object),
        "dates": np.arange(n).astype("datetime64[D]"),
        "complex": np.ones(n, dtype=complex),
        "text": np.array(["hello world"] * n, dtype=object),
        "labels_as_numeric": np.array(["a", "b"] * (n // 2), dtype=object),
        "only_ref": rng.normal(size=n),
        "retyped": np.array(["a", "b"] * (n // 2), dtype=object),
        "inf_cur": rng.normal(size=n),
    }
    kinds = {name: "numeric" for name in ref} | {
        "const_cat": "categorical",
        "mixed_cat": "categorical",
        "text": "text",
        "retyped": "categorical",
    }
    cur = {name: values[: n // 2] for name, values in ref.items() if name != "only_ref"}
    cur["empty_cur"] = np.array([], dtype=float)
    cur["only_cur"] = rng.normal(size=n)
    cur["retyped"] = np.array([1, 2] * 50, dtype=object)
    cur["inf_cur"] = np.array([np.inf, -np.inf, np.nan] * 10)
    results = detect_drift(ReferenceProfile.fit(ref, kinds), cur)
    reasons = {r.feature: r.reason for r in results.features}
    expected = {
        "all_nan": "no finite values in the reference data (200 NaN)",
        "empty_cur": "no finite values in the current data (no rows)",
        "const": "constant in the reference (every value is 3.0)",
        "const_cat": "constant column (only 'a' on both sides)",
        "mixed": "mixed types: 100 of 200 reference values are not numbers (e.g. 'x')",
        "mixed_cat": "mixed types in the reference data: int in 100 rows, str in 100 rows",
        "dates": "dtype datetime64[D], which is not numeric",
        "complex": "dtype complex128, which is not numeric",
        "text": "text columns are tested through their descriptors",
        "only_ref": "missing in the current data",
        "only_cur": "missing in the reference data",
        "retyped": "type mismatch: reference values are str, current values are int",
        "inf_cur": "no finite values in the current data (10 NaN, 10 +inf, 10 -inf)",
        "labels_as_numeric": "not a numeric column: 200 of 200 reference values are not numbers",
    }
    assert set(reasons) == set(expected)
    for name, fragment in expected.items():
        reason = reasons[name]
        assert reason is not None and reason.startswith("not tested: "), name
        assert fragment in reason, (name, reason)
    for r in results.features:
        assert r.drifted is None and r.decided_by == "not_tested" and r.threshold is None
    assert (results.n_tested, results.drift_share, results.dataset_drifted) == (0, 0.0, False)
    json.dumps(results.to_dict(), allow_nan=False)


def test_results_are_json_safe_and_ordered() -> None:
    rng = np.random.default_rng(11)
    ref, cur = dataset(rng, 3_000), dataset(rng, 3_000, shift=0.5)
    cur["normal"] = np.r_[cur["normal"][:-5], [np.nan, np.inf, -np.inf, np.nan, np.nan]]
    cur["colour"] = np.r_[cur["colour"][:-50], np.array(["purple"] * 50, dtype=object)]
    results = detect_drift(ReferenceProfile.fit(ref, KINDS), cur)
    payload = json.loads(json.dumps(results.to_dict(), allow_nan=False))
    assert payload["features"][0]["drifted"] is True
    flags = [r.drifted for r in results.features]
    assert flags == sorted(flags, key=lambda f: {True: 0, False: 1, None: 2}[f])
    assert results["colour"].details["new_categories"] == {"purple": 50}
    assert results["normal"].details["dropped_current"] == {"nan": 3, "pos_inf": 1, "neg_inf": 1}
    assert results.drift_share == results.n_drifted / results.n_tested
    for r in results.features:
        for number in (r.statistic, r.p_value, r.effect_size, r.threshold, r.p_value_adjusted):
            assert number is None or math.isfinite(number)


def test_profile_is_reused_unchanged_across_windows() -> None:
    rng = np.random.default_rng(12)
    profile = ReferenceProfile.fit(dataset(rng, 2_000), KINDS)
    window = dataset(rng, 1_500, shift=0.1)
    first = detect_drift(profile, window)
    detect_drift(profile, dataset(rng, 800))
    again = detect_drift(profile, window)
    assert first.to_dict() == again.to_dict()


def test_dataset_verdict_uses_the_correction() -> None:
    rng = np.random.default_rng(13)
    profile = ReferenceProfile.fit(dataset(rng, 400), KINDS)
    results = detect_drift(
        profile, dataset(rng, 300), options=DriftOptions(correction="bonferroni")
    )
    tested = [r for r in results.features if r.tested]
    for r in tested:
        assert r.p_value_adjusted == pytest.approx(min(1.0, r.p_value * len(tested)))  # type: ignore[operator]
        assert r.drifted_adjusted == (r.p_value_adjusted < r.threshold)  # type: ignore[operator]
    assert results.dataset_drifted == any(r.drifted_adjusted for r in tested)
    share = detect_drift(
        profile, dataset(rng, 300, shift=0.5), options=DriftOptions(dataset_drift_share=0.5)
    )
    assert share.dataset_drifted == (share.drift_share >= 0.5)


values = st.lists(st.integers(-5, 5).map(float) | st.floats(-100, 100), min_size=1, max_size=40)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(values, values, st.randoms(use_true_random=False))
def test_engine_properties(ref: list[float], cur: list[float], shuffle: object) -> None:
    profile = ReferenceProfile.fit({"x": np.array(ref)}, {"x": "numeric"})
    result = detect_drift(profile, {"x": np.array(cur)})["x"]
    shuffled = list(cur)
    shuffle.shuffle(shuffled)  # type: ignore[attr-defined]
    again = detect_drift(profile, {"x": np.array(shuffled)})["x"]
    assert result.to_dict() == again.to_dict()  # row order does not matter …
    reordered = ReferenceProfile.fit({"x": np.array(ref[::-1])}, {"x": "numeric"})
    assert detect_drift(reordered, {"x": np.array(cur)})["x"].to_dict() == result.to_dict()
    if result.tested:
        assert result.p_value is not None and 0.0 <= result.p_value <= 1.0
        expected = scipy_ks(ref, cur)
        assert result.p_value == pytest.approx(expected.pvalue, rel=REL, abs=1e-300)
    else:
        assert result.reason is not None and "constant" in result.reason
