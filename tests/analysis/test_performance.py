"""Performance metrics checked against scikit-learn on seeded random data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from keeneye.analysis.performance import (
    binary_scores,
    class_labels,
    classification_bias,
    classification_metrics,
    infer_task,
    label_delays,
    regression_bias,
    regression_metrics,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_classification_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    scores = np.clip(0.35 * y + rng.uniform(0, 0.65, 500), 0, 1)
    scores[:7] = np.round(scores[:7], 1)  # ties in the scores
    pred = (scores >= 0.5).astype(int)
    m = classification_metrics(class_labels(y), class_labels(pred), scores=scores)
    assert m.positive_class == "1"
    assert m.accuracy == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert m.precision == pytest.approx(skm.precision_score(y, pred), abs=1e-12)
    assert m.recall == pytest.approx(skm.recall_score(y, pred), abs=1e-12)
    assert m.f1 == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
    assert m.roc_auc == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)
    assert m.log_loss == pytest.approx(skm.log_loss(y, scores), abs=1e-12)
    assert np.array_equal(np.array(m.confusion_matrix), skm.confusion_matrix(y, pred))


def test_multiclass_macro_matches_sklearn() -> None:
    rng = np.random.default_rng(7)
    classes = np.array(["cat", "dog", "emu", "fox"])
    y = classes[rng.integers(0, 4, 400)]
    pred = np.where(rng.uniform(size=400) < 0.6, y, classes[rng.integers(0, 3, 400)])
    m = classification_metrics(class_labels(y), class_labels(pred))
    assert m.average == "macro"
    assert m.accuracy == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    for name, fn in (
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ):
        assert getattr(m, name) == pytest.approx(fn(y, pred, average="macro"), abs=1e-12)
    assert np.array_equal(np.array(m.confusion_matrix), skm.confusion_matrix(y, pred))
    assert m.roc_auc is None and m.log_loss is None


def test_string_binary_positive_class_and_missing_rows() -> None:
    y = np.array(["yes", "no", None, "yes", "no", "no"], dtype=object)
    p = np.array(["yes", "yes", "no", None, "no", "no"], dtype=object)
    m = classification_metrics(y, p, positive_class="yes")
    keep = [0, 1, 4, 5]
    assert m.n == 4
    assert m.precision == pytest.approx(
        skm.precision_score(y[keep].astype(str), p[keep].astype(str), pos_label="yes")
    )
    assert m.recall == 1.0


def test_regression_matches_sklearn_and_drops_nonfinite() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(50, 10, 300)
    pred = y + rng.normal(1.5, 4, 300)
    pred_bad = pred.copy()
    pred_bad[:3] = [np.nan, np.inf, -np.inf]
    m = regression_metrics(y, pred_bad)
    yk, pk = y[3:], pred[3:]
    assert m.n == 297 and m.nonfinite == 3
    assert m.mae == pytest.approx(skm.mean_absolute_error(yk, pk), rel=1e-12)
    assert m.rmse == pytest.approx(np.sqrt(skm.mean_squared_error(yk, pk)), rel=1e-12)
    assert m.mape == pytest.approx(skm.mean_absolute_percentage_error(yk, pk), rel=1e-12)
    assert m.r2 == pytest.approx(skm.r2_score(yk, pk), rel=1e-12)
    assert m.mean_error == pytest.approx(float(np.mean(pk - yk)), rel=1e-12)
    constant = regression_metrics([2.0, 2.0], [2.0, 2.0])
    assert constant.r2 == skm.r2_score([2.0, 2.0], [2.0, 2.0])


def test_task_inference_and_binary_scores() -> None:
    assert infer_task(["a"], ["yes", "no"]) == "classification"
    assert infer_task([1.5, 2.5], [0.0, 1.0, 2.0]) == "classification"
    assert infer_task([1.5, 2.5], list(np.linspace(0, 10, 50))) == "regression"
    labels = class_labels([0, 1, 1])
    assert binary_scores([0.2, 0.7, 0.9], labels) is not None
    assert binary_scores([0, 1, 1], labels) is None  # hard 0/1 predictions are classes
    assert binary_scores([0.2, 1.7, 0.9], labels) is None


def test_bias_and_label_delay() -> None:
    y = class_labels([0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    p = class_labels([1, 1, 0, 1, 1, 1, 0, 0, 0, 0])
    bias = classification_bias(y, p)
    assert bias is not None and bias.subject == "1"
    assert bias.value == pytest.approx(0.5 - 0.2)
    reg = regression_bias([1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, np.nan])
    assert reg is not None
    assert reg.value == pytest.approx(3.0 - 2.0)
    assert reg.normalized == pytest.approx(1.0 / np.std([1.0, 2.0, 3.0]))
    delays = label_delays(np.zeros(4), np.array([86400.0, 3 * 86400.0, np.nan, 2 * 86400.0]))
    assert delays == {
        "median_seconds": 2 * 86400.0,
        "p90_seconds": pytest.approx(np.quantile([86400, 2 * 86400, 3 * 86400], 0.9)),
        "max_seconds": 3 * 86400.0,
    }


@pytest.mark.parametrize("shape", ["continuous", "heavy ties", "already sorted", "signed zeros"])
def test_average_ranks_equal_scipy_rankdata(shape: str) -> None:
    from scipy.stats import rankdata

    from keeneye.analysis.performance import average_ranks

    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 57, 2000):
        values = {
            "continuous": rng.normal(size=n),
            "heavy ties": rng.integers(0, 4, n).astype(np.float64),
            "already sorted": np.sort(rng.integers(0, 30, n).astype(np.float64)),
            "signed zeros": np.where(rng.uniform(size=n) < 0.5, -0.0, 0.0),
        }[shape]
        expected = rankdata(values) if n else np.empty(0)
        assert np.array_equal(average_ranks(values), expected)
