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

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pyarrow as pa

from keeneye.analysis.reference import PREDICTION_COLUMN, TARGET_COLUMNS
from keeneye.profile.report import ExpectedRange

if TYPE_CHECKING:
    from keeneye.analysis.statistics import LabelledRows

_T = TypeVar("_T")

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


@dataclass(frozen=True)
class PreparedBaseline:
    """A :func:`labelled_baseline` made ready for :func:`expected_ranges` (its classes coded,
    its rows in the order of their scores): what depends on the baseline alone, kept by a
    runner across windows of any label count."""

    events: pa.Table
    labelled: LabelledRows
    order: np.ndarray | None
    task: str
    positive_class: str | None


def prepare_baseline(
    events: pa.Table, *, task: str = "auto", positive_class: str | None = None
) -> PreparedBaseline:
    """``events`` (a :func:`labelled_baseline`) prepared once for any number of windows."""
    from keeneye.analysis.statistics import LabelledRows

    labelled = LabelledRows(events, task=task, positive_class=positive_class)
    return PreparedBaseline(events, labelled, _score_order(events), task, positive_class)


def expected_ranges(
    events: pa.Table | PreparedBaseline,
    n: int,
    level: float,
    *,
    task: str = "auto",
    positive_class: str | None = None,
    chunks: int = CHUNKS,
    seed: int = 0,
) -> dict[str, ExpectedRange]:
    """Each metric's expected range on ``n`` labelled rows (``events``: a
    :func:`labelled_baseline`, or one prepared by :func:`prepare_baseline` — then its task
    and positive class apply), at a family-wise ``level`` over the metrics judged."""
    from keeneye.analysis.statistics import performance_section

    prepared = (
        events
        if isinstance(events, PreparedBaseline)
        else prepare_baseline(events, task=task, positive_class=positive_class)
    )
    events, labelled, order = prepared.events, prepared.labelled, prepared.order
    task, positive_class = prepared.task, prepared.positive_class
    rows = events.num_rows
    if n < 2 or rows < 2 * n:
        return {}
    rng = np.random.default_rng(seed)
    chosen = np.zeros(rows, dtype=bool)
    values: dict[str, list[float]] = {}
    for _ in range(chunks):
        take = rng.choice(rows, size=n, replace=False)
        if order is not None:
            # The same rows, in the order of their scores: ranking a chunk (ROC AUC) then
            # sorts an already sorted array, a tenth of the time of the chunk's own sort.
            # Counts and ranks do not depend on the row order; means (log loss) may differ
            # in the last digit. (A mask: the drawn rows need no sort of their own.)
            chosen[:] = False
            chosen[take] = True
            take = order[chosen[order]]
        else:
            take = np.sort(take)
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


class ExpectedCache:
    """Expected ranges and the prepared baselines they are computed from, by key (a key must
    name the baseline's digest); the newest few kept; thread-safe (computed outside the lock:
    two threads may compute one key once each, with the same result)."""

    def __init__(self, ranges: int = 256, baselines: int = 4) -> None:
        self._ranges: dict[Hashable, dict[str, ExpectedRange]] = {}
        self._baselines: dict[Hashable, PreparedBaseline | None] = {}
        self._sizes = (ranges, baselines)
        self._lock = threading.Lock()

    def ranges(
        self, key: Hashable, compute: Callable[[], dict[str, ExpectedRange]]
    ) -> dict[str, ExpectedRange]:
        """The ranges kept under ``key``, else ``compute()``'s (then kept)."""
        return self._get(self._ranges, self._sizes[0], key, compute)

    def baseline(
        self, key: Hashable, compute: Callable[[], PreparedBaseline | None]
    ) -> PreparedBaseline | None:
        """The prepared baseline kept under ``key``, else ``compute()``'s (then kept)."""
        return self._get(self._baselines, self._sizes[1], key, compute)

    def _get(
        self, items: dict[Hashable, _T], size: int, key: Hashable, compute: Callable[[], _T]
    ) -> _T:
        with self._lock:
            if key in items:
                return items[key]
        value = compute()
        with self._lock:
            items[key] = value
            while len(items) > size:
                del items[next(iter(items))]  # the oldest
        return value
