"""Bonferroni, Holm and Benjamini–Hochberg against scipy and hand computation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from keeneye.errors import InputError
from keeneye.stats import adjust_p_values

p_lists = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(p_lists)
def test_bh_equals_scipy_false_discovery_control(p: list[float]) -> None:
    ours = adjust_p_values(p, "bh")
    np.testing.assert_allclose(ours, sps.false_discovery_control(p, method="bh"), rtol=1e-12)
    # and the definition (BH 1995): adjusted p_(i) = min over j >= i of p_(j) * m / j
    m = len(p)
    ranked = sorted(p)
    by_rank = [min(min(ranked[j] * m / (j + 1) for j in range(i, m)), 1.0) for i in range(m)]
    expected = np.empty(m)
    expected[np.argsort(p, kind="stable")] = by_rank
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(p_lists)
def test_holm_and_bonferroni_by_definition(p: list[float]) -> None:
    m = len(p)
    bonferroni = adjust_p_values(p, "bonferroni")
    np.testing.assert_allclose(bonferroni, np.minimum(np.array(p) * m, 1.0))
    holm = adjust_p_values(p, "holm")
    order = np.argsort(p, kind="stable")
    expected = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):  # the textbook step-down loop
        running = max(running, min(1.0, (m - rank) * p[i]))
        expected[i] = running
    np.testing.assert_allclose(holm, expected, rtol=1e-12)
    assert np.all(holm <= bonferroni + 1e-15)  # Holm is never less powerful
    assert np.all((holm >= np.array(p)) & (holm <= 1.0))


def test_published_holm_example() -> None:
    # Holm (1979)-style worked example: p = 0.01, 0.04, 0.03, 0.005 with m = 4
    assert adjust_p_values([0.01, 0.04, 0.03, 0.005], "holm").tolist() == pytest.approx(
        [0.03, 0.06, 0.06, 0.02]
    )


def test_errors() -> None:
    with pytest.raises(InputError, match="unknown correction 'sidak'"):
        adjust_p_values([0.1], "sidak")
    with pytest.raises(InputError, match=r"in \[0, 1\]"):
        adjust_p_values([0.1, float("nan")])
    assert adjust_p_values([], "bh").size == 0
