"""The reference a window is compared with, prepared once per baseline: feature kinds, the
fitted drift profile (``keeneye.stats.ReferenceProfile``), ranges, categories and missing
shares. Built from the baseline table; cached by the baseline's digest."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from keeneye.analysis.columns import column_kinds, to_columns, with_nulls
from keeneye.analysis.scores import class_labels, is_class_column
from keeneye.schema import FeatureKind
from keeneye.stats import ColumnSummary, ReferenceProfile, summarize

#: A baseline column with this name holds the model's predictions on the training data; it is
#: the reference of prediction drift, not a feature.
PREDICTION_COLUMN = "prediction"
#: Baseline columns with these names are the training target, not features.
TARGET_COLUMNS = frozenset({"label", "target"})


@dataclass(frozen=True)
class Reference:
    """Everything the jobs need from one baseline: kinds, fitted drift profiles, and the
    summary of each tested column (the reference of the quality checks)."""

    kinds: Mapping[str, FeatureKind | None]
    profile: ReferenceProfile | None
    prediction_profile: ReferenceProfile | None
    prediction_kind: FeatureKind | None
    rows: int
    summaries: Mapping[str, ColumnSummary] = field(default_factory=dict)
    problems: Mapping[str, str] = field(default_factory=dict)

    @property
    def tested(self) -> dict[str, FeatureKind]:
        return {n: k for n, k in self.kinds.items() if k is not None and k.testable}


def feature_table(table: pa.Table) -> pa.Table:
    """The feature columns of a baseline (without ``prediction``, ``label``, ``target``)."""
    keep = [n for n in table.column_names if n != PREDICTION_COLUMN and n not in TARGET_COLUMNS]
    return table.select(keep)


def build_reference(table: pa.Table, task: str = "auto") -> Reference:
    """Prepare a baseline table for the jobs (the expensive part: done once per baseline).

    The ``prediction`` column is tested as categorical when it holds classes (strings,
    booleans, few integer values; ``task="classification"`` always) and as numeric for a
    regressor. Score columns (``score``, ``score_<class>``) are features like any other; the
    window's come from its logged probabilities (:mod:`keeneye.analysis.scores`)."""
    features = feature_table(table)
    kinds = column_kinds(features)
    tested = {n: k for n, k in kinds.items() if k is not None and k.testable}
    columns, problems = to_columns(features, tested)
    profile = ReferenceProfile.fit(columns, {n: tested[n] for n in columns}) if columns else None
    prediction_profile = None
    prediction_kind = None
    if PREDICTION_COLUMN in table.column_names:
        column = table.column(PREDICTION_COLUMN)
        if task == "classification" or (task != "regression" and is_class_column(column)):
            table = table.set_column(
                table.column_names.index(PREDICTION_COLUMN),
                PREDICTION_COLUMN,
                class_labels(column),
            )
        pred_kinds = column_kinds(table.select([PREDICTION_COLUMN]))
        prediction_kind = pred_kinds[PREDICTION_COLUMN]
        if pa.types.is_string(table.column(PREDICTION_COLUMN).type) and prediction_kind:
            prediction_kind = FeatureKind.CATEGORICAL
        if prediction_kind is not None and prediction_kind.testable:
            pred_columns, _ = to_columns(table.select([PREDICTION_COLUMN]), pred_kinds)
            if pred_columns:
                prediction_profile = ReferenceProfile.fit(
                    pred_columns, {PREDICTION_COLUMN: prediction_kind}
                )
    summaries = {
        name: with_nulls(summarize(values, tested[name]), features.column(name).null_count)
        for name, values in columns.items()
    }
    return Reference(
        kinds=kinds,
        profile=profile,
        prediction_profile=prediction_profile,
        prediction_kind=prediction_kind,
        rows=table.num_rows,
        summaries=summaries,
        problems=problems,
    )


class ReferenceCache:
    """Fitted references by ``(model, version, digest)``; thread-safe; keeps the newest few."""

    def __init__(self, size: int = 16) -> None:
        self._items: dict[tuple[str, str, str], Reference] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> Reference | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[str, str, str], reference: Reference) -> None:
        with self._lock:
            self._items[key] = reference
            while len(self._items) > self._size:
                self._items.pop(next(iter(self._items)))
