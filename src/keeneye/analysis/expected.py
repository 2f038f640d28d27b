"""Performance thresholds from the baseline's labels: what a metric is expected to be on a
window with ``n`` labelled rows when nothing changed.

The baseline (training or validation data with ``prediction`` and ``label``/``target``) is cut
into ``chunks`` random samples of ``n`` rows; each metric is computed on each chunk with the
very code the windows use (:func:`keeneye.analysis.statistics.performance_section`). Its mean
and standard deviation over the chunks give the window's range, ``mean − z·sd`` for metrics
where higher is better and ``mean + z·sd`` where lower is, with ``z`` from the window's
alert-budget level shared among the metrics judged (Bonferroni). So performance alerts work
without a hand-set ``performance_min`` and stay quiet on clean data.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pyarrow as pa

from keeneye.analysis.reference import PREDICTION_COLUMN, TARGET_COLUMNS
from keeneye.profile.report import ExpectedRange

#: Metrics judged against the baseline, by direction.
HIGHER_IS_BETTER = ("accuracy", "f1", "roc_auc", "r2")
LOWER_IS_BETTER = ("log_loss", "rmse", "mae")
#: Random chunks of the baseline per window size.
CHUNKS = 60


def labelled_baseline(table: pa.Table) -> pa.Table | None:
    """The baseline as prediction events with labels (``None`` without both columns)."""
    target = next((c for c in table.column_names if c in TARGET_COLUMNS), None)
    if target is None or PREDICTION_COLUMN not in table.column_names:
        return None
    n = table.num_rows
    # every row at the epoch, from zeros: no Python datetime per row
    stamps = pa.array(np.zeros(n, dtype=np.int64)).cast(pa.timestamp("us", tz="UTC"))
    return pa.table(
        {
            "timestamp": stamps,
            "prediction": table.column(PREDICTION_COLUMN),
            "label": table.column(target),
            "label_timestamp": stamps,
        }
    )


def _score_order(events: pa.Table) -> np.ndarray | None:
    """The rows of ``events`` in the order of a numeric prediction (``None`` otherwise)."""
    column = events.column("prediction")
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        return None
    scores = column.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    return np.argsort(np.asarray(scores, dtype=np.float64), kind="stable")


def expected_ranges(
    events: pa.Table,
    n: int,
    level: float,
    *,
    task: str = "auto",
    positive_class: str | None = None,
    chunks: int = CHUNKS,
    seed: int = 0,
) -> dict[str, ExpectedRange]:
    """Each metric's expected range on ``n`` labelled rows (``events``: a
    :func:`labelled_baseline`), at a family-wise ``level`` over the metrics judged."""
    from keeneye.analysis.statistics import LabelledRows, performance_section

    rows = events.num_rows
    if n < 2 or rows < 2 * n:
        return {}
    rng = np.random.default_rng(seed)
    labelled = LabelledRows(events, task=task, positive_class=positive_class)
    order = _score_order(events)
    chosen = np.zeros(rows, dtype=bool)
    values: dict[str, list[float]] = {}
    for _ in range(chunks):
        take = np.sort(rng.choice(rows, size=n, replace=False))
        if order is not None:
            # The same rows, in the order of their scores: ranking a chunk (ROC AUC) then
            # sorts an already sorted array, a tenth of the time of the chunk's own sort.
            # Counts and ranks do not depend on the row order; means (log loss) may differ
            # in the last digit.
            chosen[:] = False
            chosen[take] = True
            take = order[chosen[order]]
        if labelled.coded:  # the window's metrics without taking the chunk through Arrow
            metrics = labelled.metrics(take)
        else:
            metrics = performance_section(
                events.take(pa.array(take)), task=task, positive_class=positive_class
            ).metrics
        for metric, value in metrics.items():
            if value is not None and np.isfinite(value):
                values.setdefault(metric, []).append(float(value))
    judged = [m for m in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER) if len(values.get(m, [])) > 2]
    if not judged:
        return {}
    z = NormalDist().inv_cdf(1.0 - level / len(judged))
    out: dict[str, ExpectedRange] = {}
    for metric in judged:
        sample = np.asarray(values[metric])
        mean, sd = float(sample.mean()), float(sample.std(ddof=1))
        higher = metric in HIGHER_IS_BETTER
        out[metric] = ExpectedRange(
            mean=mean,
            sd=sd,
            low=mean - z * sd if higher else None,
            high=None if higher else mean + z * sd,
            chunks=len(sample),
            chunk_size=n,
        )
    return out
