"""CBPE and DLE as statistics: estimates against scikit-learn's realized metrics on calibrated
data, and the row-conditional sampling sd against a simulation of the labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from keeneye.stats.cbpe import CBPE, expected_roc_auc
from keeneye.stats.dle import DLE, realized_regression


def test_cbpe_expected_metrics_and_their_sd_match_simulated_labels() -> None:
    rng = np.random.default_rng(0)
    s = rng.uniform(size=8000)
    y = (rng.uniform(size=8000) < s).astype(int)
    model = CBPE.fit(np.c_[1 - s, s], y.astype(str), ("0", "1"))
    window = rng.beta(2, 2, size=600)  # a different input distribution, same calibration
    scores = np.c_[1 - window, window]
    predicted = (window >= 0.5).astype(np.int64)
    estimate = model.estimate(scores, predicted)
    sd = model.conditional_sd(scores, predicted)["accuracy"]
    sims = {"accuracy": [], "roc_auc": [], "f1": []}
    for _ in range(400):
        truth = (rng.uniform(size=600) < window).astype(int)
        sims["accuracy"].append(skm.accuracy_score(truth, predicted))
        sims["roc_auc"].append(skm.roc_auc_score(truth, window))
        sims["f1"].append(skm.f1_score(truth, predicted))
    for metric, values in sims.items():
        assert estimate[metric] == pytest.approx(np.mean(values), abs=0.01), metric
    assert sd == pytest.approx(np.std(sims["accuracy"], ddof=1), rel=0.15)


def test_expected_auc_with_certain_labels_is_the_realized_auc() -> None:
    rng = np.random.default_rng(1)
    score = rng.uniform(size=300)
    truth = (rng.uniform(size=300) < score).astype(float)
    assert expected_roc_auc(score, truth) == pytest.approx(skm.roc_auc_score(truth, score))


def test_dle_estimates_and_sd_match_simulated_errors() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6000, 2))
    pred = x[:, 0]

    def labels(xs: np.ndarray) -> np.ndarray:
        return xs[:, 0] + rng.normal(size=len(xs)) * (0.5 + np.abs(xs[:, 1]))

    model = DLE.fit(x, pred, labels(x), seed=0)
    window = np.c_[rng.normal(size=500), rng.normal(1.5, 1.0, size=500)]  # where it errs more
    estimate = model.estimate(window, window[:, 0])
    sd = model.conditional_sd(window, window[:, 0])
    sims = [realized_regression(labels(window), window[:, 0]) for _ in range(300)]
    for metric in ("mae", "rmse"):
        values = [s[metric] for s in sims]
        assert estimate[metric] == pytest.approx(np.mean(values), rel=0.08), metric
        assert sd[metric] == pytest.approx(np.std(values, ddof=1), rel=0.3), metric
