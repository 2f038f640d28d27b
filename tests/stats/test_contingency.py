"""Chi-square, G-test and the two-proportion Z-test against scipy and published values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from keeneye.errors import InputError
from keeneye.stats import chi_square, g_test, proportion_z

REL = 1e-9


def labels(counts: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    values = np.array([k for k, n in counts.items() for _ in range(n)], dtype=object)
    return rng.permutation(values)


@pytest.mark.parametrize("correction", [True, False])
@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        ({"a": 30, "b": 70}, {"a": 45, "b": 55}),  # 2x2: Yates applies when correction=True
        ({"a": 3, "b": 2}, {"a": 1, "b": 4}),  # tiny
        ({"a": 120, "b": 300, "c": 80, "d": 5}, {"a": 100, "b": 280, "c": 130, "d": 9}),
    ],
)
def test_chi_square_and_g_equal_chi2_contingency(
    ref: dict[str, int], cur: dict[str, int], correction: bool
) -> None:
    rng = np.random.default_rng(0)
    table = np.array([[ref[k] for k in ref], [cur[k] for k in ref]])
    for ours, lambda_ in (
        (chi_square(labels(ref, rng), labels(cur, rng), correction=correction), None),
        (g_test(labels(ref, rng), labels(cur, rng), correction=correction), "log-likelihood"),
    ):
        expected = sps.chi2_contingency(table, correction=correction, lambda_=lambda_)
        assert ours.statistic == pytest.approx(expected.statistic, rel=REL)
        assert ours.p_value == pytest.approx(expected.pvalue, rel=REL)
        assert ours.details["dof"] == expected.dof


def test_new_categories_are_reported_and_tested_not_dropped() -> None:
    ref = ["a"] * 50 + ["b"] * 50
    cur = ["a"] * 40 + ["b"] * 40 + ["z"] * 20
    result = chi_square(ref, cur)
    expected = sps.chi2_contingency([[50, 50, 0], [40, 40, 20]])
    assert result.details["new_categories"] == {"z": 20}
    assert result.statistic == pytest.approx(expected.statistic, rel=REL)
    assert result.p_value == pytest.approx(expected.pvalue, rel=REL)


def test_missing_labels_are_excluded_and_counted() -> None:
    result = chi_square(["a", "b", None, "a"], ["a", float("nan"), "b", "b"])
    assert (result.n_reference, result.n_current) == (3, 3)
    assert result.details["missing_reference"] == 1
    assert result.details["missing_current"] == 1


def test_single_category_on_both_sides_is_not_a_difference() -> None:
    result = chi_square(["a"] * 5, ["a"] * 9)
    assert (result.statistic, result.p_value, result.details["dof"]) == (0.0, 1.0, 0)


def test_chi_square_errors() -> None:
    with pytest.raises(InputError, match="current sample has no non-missing values"):
        chi_square(["a"], [None, None])
    with pytest.raises(InputError, match="cannot be used as categories"):
        chi_square(np.array(["2024-01-01"], dtype="datetime64[D]"), ["a"])


def test_proportion_z_matches_statsmodels_published_example() -> None:
    # statsmodels' proportions_ztest docstring: count=[5, 12], nobs=[83, 99] → p-value 0.159
    ref = [True] * 5 + [False] * 78
    cur = [True] * 12 + [False] * 87
    result = proportion_z(ref, cur)
    p1, p2, pooled = 5 / 83, 12 / 99, 17 / 182
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / 83 + 1 / 99))
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert round(result.p_value, 3) == 0.159  # type: ignore[arg-type]
    # z² is the uncorrected 2x2 chi-square statistic, and the p-values agree
    chi2 = sps.chi2_contingency([[5, 78], [12, 87]], correction=False)
    assert result.statistic**2 == pytest.approx(chi2.statistic, rel=REL)
    assert result.p_value == pytest.approx(chi2.pvalue, rel=REL)


def test_proportion_z_rejects_more_than_two_labels() -> None:
    with pytest.raises(InputError, match="needs a binary column, got 3 labels"):
        proportion_z(["a", "b"], ["c"])


def test_proportion_z_identical_degenerate_samples() -> None:
    result = proportion_z([True] * 4, [True] * 7)
    assert (result.statistic, result.p_value) == (0.0, 1.0)


category = st.sampled_from(["a", "b", "c", "d"])


@settings(derandomize=True, max_examples=100, deadline=None)
@given(st.lists(category, min_size=1, max_size=40), st.lists(category, min_size=1, max_size=40))
def test_properties(ref: list[str], cur: list[str]) -> None:
    forward, backward = chi_square(ref, cur), chi_square(cur, ref)
    assert 0.0 <= forward.p_value <= 1.0  # type: ignore[operator]
    assert forward.statistic == pytest.approx(backward.statistic, rel=1e-12)
    reordered = chi_square(ref[::-1], sorted(cur))
    assert reordered.statistic == pytest.approx(forward.statistic, rel=1e-12)
    cats = sorted(set(ref) | set(cur))
    table = [[ref.count(c) for c in cats], [cur.count(c) for c in cats]]
    if len(cats) > 1:
        assert forward.p_value == pytest.approx(sps.chi2_contingency(table).pvalue, rel=REL)
