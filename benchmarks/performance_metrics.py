"""keeneye's classification/regression metrics (``keeneye.analysis.performance``) against
scikit-learn's ``metrics`` computing the same numbers, at the sizes the analysis uses them.

The expected-performance rule (``keeneye.analysis.expected``) computes every metric on 60
random chunks of the baseline for each labelled window, so the per-call cost is what matters:

    python benchmarks/performance_metrics.py [--rows 1000] [--repeat 200]

Prints the median milliseconds per call of each and the ratio, after checking both give the
same values (to 1e-12).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as skm

from keeneye.analysis.performance import classification_metrics, regression_metrics


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    n = args.rows
    score = rng.uniform(0, 1, n)
    truth = np.where(rng.uniform(0, 1, n) < score, "1", "0").astype(object)
    pred = np.where(score >= 0.5, "1", "0").astype(object)
    y = (truth == "1").astype(float)

    def ours_cls() -> Any:
        return classification_metrics(truth, pred, scores=score)

    def sklearn_cls() -> Any:
        p, r, f, _ = skm.precision_recall_fscore_support(
            truth, pred, pos_label="1", average="binary", zero_division=0
        )
        return (
            skm.accuracy_score(truth, pred),
            p,
            r,
            f,
            skm.roc_auc_score(y, score),
            skm.log_loss(y, score, labels=[0.0, 1.0]),
            skm.confusion_matrix(truth, pred),
        )

    mine, theirs = ours_cls(), sklearn_cls()
    np.testing.assert_allclose(
        [mine.accuracy, mine.precision, mine.recall, mine.f1, mine.roc_auc, mine.log_loss],
        theirs[:6],
        rtol=1e-12,
    )
    truth_r = rng.normal(10, 3, n)
    pred_r = truth_r + rng.normal(0, 1, n)

    def ours_reg() -> Any:
        return regression_metrics(truth_r, pred_r)

    def sklearn_reg() -> Any:
        return (
            skm.mean_absolute_error(truth_r, pred_r),
            skm.root_mean_squared_error(truth_r, pred_r),
            skm.mean_absolute_percentage_error(truth_r, pred_r),
            skm.r2_score(truth_r, pred_r),
        )

    got = ours_reg()
    np.testing.assert_allclose([got.mae, got.rmse, got.mape, got.r2], sklearn_reg(), rtol=1e-12)
    print(f"{n} rows, median of {args.repeat} calls (ms per call)")
    print(f"{'task':<16}{'keeneye':>10}{'sklearn':>10}{'sklearn/keeneye':>18}")
    for task, ours, theirs_fn in (
        ("classification", ours_cls, sklearn_cls),
        ("regression", ours_reg, sklearn_reg),
    ):
        a, b = _median_ms(ours, args.repeat), _median_ms(theirs_fn, args.repeat)
        print(f"{task:<16}{a:>10.3f}{b:>10.3f}{b / a:>18.1f}")


if __name__ == "__main__":
    main()
