"""The reference a window is compared with: a fitted :class:`keeneye.profile.reference.Reference`
(feature kinds, the drift profile, the column summaries the quality checks compare with), loaded
from the store where registration saved it, else fitted from the baseline table; cached by the
baseline's digest."""

from __future__ import annotations

import threading

import pyarrow as pa

from keeneye.profile.reference import PREDICTION_COLUMN, TARGET_COLUMNS, Reference

__all__ = [
    "PREDICTION_COLUMN",
    "TARGET_COLUMNS",
    "Reference",
    "ReferenceCache",
    "build_reference",
    "feature_table",
]


def feature_table(table: pa.Table) -> pa.Table:
    """The feature columns of a baseline (without ``prediction``, ``label``, ``target``)."""
    keep = [n for n in table.column_names if n != PREDICTION_COLUMN and n not in TARGET_COLUMNS]
    return table.select(keep)


def build_reference(table: pa.Table, digest: str | None = None) -> Reference:
    """Fit a baseline table for the jobs (the expensive part: done once per baseline)."""
    return Reference.fit_baseline(table, digest=digest)


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
