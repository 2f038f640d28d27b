"""The embedding tests against independent computations: MMD² against a double loop and the
closed form for two Gaussians, the classifier's AUC against scikit-learn, the cosine distance
against scipy; and their verdicts on scikit-learn's digits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import cosine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tests.modal.corpora import digits

from keeneye.errors import InputError
from keeneye.stats.embedding import (
    classifier_test,
    cosine_distance,
    median_bandwidth,
    mmd2_unbiased,
    mmd_test,
)


def _mmd2_loop(x: np.ndarray, y: np.ndarray, sigma: float) -> float:
    def k(a: np.ndarray, b: np.ndarray) -> float:
        return math.exp(-float(np.sum((a - b) ** 2)) / (2 * sigma * sigma))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def test_mmd2_equals_a_double_loop() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(23, 5)), rng.normal(0.3, 1.2, size=(31, 5))
    assert mmd2_unbiased(x, y, 1.7) == pytest.approx(_mmd2_loop(x, y, 1.7), rel=1e-10)


def test_mmd2_estimates_the_closed_form_for_two_gaussians() -> None:
    # X ~ N(0, s²), Y ~ N(d, s²), k = exp(-(a-b)²/2σ²):
    # MMD² = 2 √(σ² / (σ² + 2s²)) (1 - exp(-d² / 2(σ² + 2s²))).
    sigma, s, d = 1.0, 1.0, 1.0
    expected = (
        2
        * math.sqrt(sigma**2 / (sigma**2 + 2 * s**2))
        * (1 - math.exp(-(d**2) / (2 * (sigma**2 + 2 * s**2))))
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, s, (1500, 1)), rng.normal(d, s, (1500, 1))
    assert mmd2_unbiased(x, y, sigma) == pytest.approx(expected, abs=0.02)


def test_median_bandwidth_is_the_median_pairwise_distance() -> None:
    z = np.array([[0.0], [1.0], [3.0]])  # distances 1, 2, 3
    assert median_bandwidth(z) == pytest.approx(2.0)


def test_mmd_permutation_p_value_is_seeded_and_valid() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(80, 3)), rng.normal(size=(70, 3))
    a = mmd_test(x, y, level=0.01, seed=5)
    assert a == mmd_test(x, y, level=0.01, seed=5)
    assert 1 / (a.permutations + 1) <= a.p_value <= 1
    assert a.permutations >= 500  # 5 / level: the smallest p-value lies below the level


def test_classifier_auc_equals_scikit_learn_on_the_same_out_of_fold_scores() -> None:
    vectors, classes = digits()
    x, y = vectors[:300], vectors[300:600][classes[300:600] < 5]
    result = classifier_test(x, y, level=0.01, seed=2)
    features = np.vstack([x, y])
    labels = np.r_[np.zeros(len(x)), np.ones(len(y))]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=2)
    scores = cross_val_predict(model, features, labels, cv=folds, method="decision_function")
    assert result.auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert result.ci_low < result.auc < result.ci_high
    assert result.drifted


def test_cosine_distance_of_mean_vectors_equals_scipy() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(1, 1, (50, 6)), rng.normal(0.5, 1, (40, 6))
    assert cosine_distance(x, y) == pytest.approx(cosine(x.mean(0), y.mean(0)), abs=1e-12)


def test_iid_digits_are_not_flagged_and_other_classes_are() -> None:
    vectors, classes = digits()
    reference, current = vectors[:900], vectors[900:]
    level = 0.005
    assert not mmd_test(reference, current, level=level).drifted
    assert not classifier_test(reference, current, level=level).drifted
    shifted = current[classes[900:] < 5]
    assert mmd_test(reference, shifted, level=level).drifted
    assert classifier_test(reference, shifted, level=level).drifted


def test_vectors_of_different_lengths_are_refused() -> None:
    with pytest.raises(InputError, match="same model"):
        mmd_test(np.zeros((5, 3)), np.zeros((5, 4)))
