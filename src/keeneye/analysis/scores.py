"""The model's score as a feature: a baseline column ``score`` holds the predicted probability
of the positive class (binary classifiers), ``score_<class>`` that of each class (multiclass);
in a window the same columns are read from the logged probabilities, so the score is
drift-tested (and quality-checked) like any feature. And the class a classifier predicts is a
category, not a number: a 0/1 prediction is tested with chi-square, not KS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from keeneye.profile.classes import MAX_CLASSES, class_labels, is_class_column

#: The baseline column with the positive-class probability (binary classifiers).
SCORE_COLUMN = "score"
#: Baseline columns ``score_<class>`` hold the probability of each class.
SCORE_PREFIX = "score_"
#: Class names taken as the positive one of a binary classifier, in this order.
_POSITIVE = ("1", "1.0", "true", "True", "yes", "pos", "positive")


def score_names(columns: Iterable[str]) -> list[str]:
    """The score columns among a baseline's columns.

    >>> score_names(["age", "score", "score_cat", "prediction"])
    ['score', 'score_cat']
    """
    return [c for c in columns if c == SCORE_COLUMN or c.startswith(SCORE_PREFIX)]


def _probabilities(raw: Any) -> dict[str, float] | None:
    if raw is None:
        return None
    value = json.loads(raw) if isinstance(raw, str) else raw
    if isinstance(value, dict):
        return {str(k): _float(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): _float(v) for i, v in enumerate(value)}
    return None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def positive_of(classes: Sequence[str], positive_class: str | None) -> str | None:
    """The positive class of a binary classifier's probabilities.

    >>> positive_of(["0", "1"], None), positive_of(["no", "yes"], None)
    ('1', 'yes')
    >>> positive_of(["a", "b"], "a"), positive_of(["a", "b", "c"], None)
    ('a', None)
    """
    if positive_class is not None:
        return str(positive_class) if str(positive_class) in classes else None
    if len(classes) != 2:
        return None
    for name in _POSITIVE:
        if name in classes:
            return name
    return sorted(classes)[-1]


def score_table(
    events: pa.Table, names: Sequence[str], positive_class: str | None = None
) -> dict[str, pa.Array]:
    """The ``names`` score columns of a window, from its logged probabilities (missing where
    a row logged none, or lacks that class)."""
    if not names or "probabilities" not in events.column_names:
        return {}
    rows = [_probabilities(p) for p in events.column("probabilities").to_pylist()]
    out: dict[str, pa.Array] = {}
    for name in names:
        values: list[float | None] = []
        for row in rows:
            if row is None:
                values.append(None)
                continue
            cls = (
                positive_of(sorted(row), positive_class)
                if name == SCORE_COLUMN
                else name[len(SCORE_PREFIX) :]
            )
            values.append(None if cls is None else row.get(cls))
        out[name] = pa.array(values, type=pa.float64())
    return out


def with_scores(
    features: pa.Table, events: pa.Table, names: Sequence[str], positive_class: str | None = None
) -> pa.Table:
    """``features`` with the window's score columns (those the baseline has) appended."""
    table = features
    for name, column in score_table(events, names, positive_class).items():
        if name in table.column_names:
            continue  # the model logged a feature of that name itself
        table = table.append_column(name, column)
    return table


__all__ = [
    "MAX_CLASSES",
    "SCORE_COLUMN",
    "SCORE_PREFIX",
    "class_labels",
    "is_class_column",
    "positive_of",
    "score_names",
    "score_table",
    "with_scores",
]
