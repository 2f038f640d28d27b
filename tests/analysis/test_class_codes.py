"""Coded classes: the window's labels coded from Arrow give the classes ``class_labels`` names
row by row, and the metrics counted on codes equal those of the class names."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from keeneye.analysis import performance as perf
from keeneye.analysis.statistics import class_codes

COLUMNS = {
    "floats with NaN and nulls": pa.chunked_array([[1.0, None, 0.0], [float("nan"), -0.0, 1.0]]),
    "integers": pa.chunked_array([[3, 1, None, 3], [2]]),
    "strings": pa.chunked_array([["b", None, "a"], ["b", "c"]]),
    "booleans": pa.chunked_array([[True, None, False, True]]),
    "all missing": pa.chunked_array([[None, None]], pa.null()),
    "empty": pa.chunked_array([], pa.float64()),
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_codes_name_each_row_as_class_labels_does(name: str) -> None:
    column = COLUMNS[name]
    coded = class_codes(column)
    assert coded.objects().tolist() == perf.class_labels(column.to_pylist()).tolist()


def test_metrics_on_codes_equal_metrics_on_names() -> None:
    rng = np.random.default_rng(3)
    truth = [None if i % 11 == 0 else str(v) for i, v in enumerate(rng.integers(0, 3, 400))]
    pred = [None if i % 13 == 0 else str(v) for i, v in enumerate(rng.integers(0, 4, 400))]
    by_names = perf.classification_metrics(truth, pred)
    by_codes = perf.classification_metrics_of(perf.Classes.of(truth), perf.Classes.of(pred))
    assert by_codes == by_names
    assert by_codes.classes == ("0", "1", "2", "3")
    assert sum(map(sum, by_codes.confusion_matrix)) == by_codes.n


def _labelled(prediction: pa.Array, label: pa.Array) -> pa.Table:
    from keeneye.analysis.expected import labelled_baseline

    table = labelled_baseline(pa.table({"prediction": prediction, "label": label}))
    assert table is not None
    return table


@pytest.mark.parametrize(
    "kind", ["probabilities", "hard classes", "regression", "string labels", "missing labels"]
)
def test_the_metrics_of_a_subset_are_those_of_its_own_section(kind: str) -> None:
    from keeneye.analysis.statistics import LabelledRows, performance_section

    rng = np.random.default_rng(11)
    n = 600
    scores = rng.uniform(0, 1, n)
    outcome = (rng.uniform(0, 1, n) < scores).astype(np.int64)
    prediction, label = {
        "probabilities": (pa.array(scores), pa.array(outcome)),
        "hard classes": (pa.array(rng.integers(0, 3, n)), pa.array(rng.integers(0, 3, n))),
        "regression": (pa.array(rng.normal(0, 1, n)), pa.array(rng.normal(0, 1, n))),
        "string labels": (pa.array(scores), pa.array(rng.choice(["0", "1"], n))),
        "missing labels": (
            pa.array(scores),
            pa.array([None if i % 4 == 0 else float(v) for i, v in enumerate(outcome)]),
        ),
    }[kind]
    events = _labelled(prediction, label)
    rows = LabelledRows(events, task="auto", positive_class=None)
    assert rows.coded
    for _ in range(5):
        take = rng.permutation(n)[:200]
        section = performance_section(events.take(pa.array(take)), task="auto")
        assert rows.metrics(take) == dict(section.metrics)
