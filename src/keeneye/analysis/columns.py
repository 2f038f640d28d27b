"""Window columns as the numpy arrays the statistics engine takes — through the very same
conversion as ``keeneye.compare`` (:mod:`keeneye.tables`), so that a window's results equal a
comparison of the same rows."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from keeneye.compare import _with_nulls
from keeneye.schema import FeatureKind
from keeneye.stats import ColumnSummary
from keeneye.tables import as_kind, infer_kind, to_numpy


def with_nulls(summary: ColumnSummary, nulls: int) -> ColumnSummary:
    """A numeric summary with Arrow nulls counted as missing rather than NaN — the correction
    ``keeneye.compare`` applies (numeric columns reach the engine as float64, nulls as NaN)."""
    return _with_nulls(summary, nulls)


def column_kinds(table: pa.Table) -> dict[str, FeatureKind | None]:
    """The kind of each column as ``keeneye.compare`` infers it (``None``: not testable)."""
    out: dict[str, FeatureKind | None] = {}
    for name in table.column_names:
        guess = infer_kind(table.column(name))
        out[name] = guess.kind if guess.untested is None else None
    return out


def to_columns(
    table: pa.Table, kinds: Mapping[str, FeatureKind | None]
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``(columns, problems)``: each column of ``kinds`` that ``table`` has, cast to its kind,
    as numpy; a column that cannot be cast is named in ``problems`` with the reason."""
    columns: dict[str, np.ndarray] = {}
    problems: dict[str, str] = {}
    for name, kind in kinds.items():
        if kind is None:
            continue
        if name not in table.column_names:
            problems[name] = "not in the window"
            continue
        cast = as_kind(table.column(name), kind)
        if isinstance(cast, str):
            problems[name] = cast
            continue
        columns[name] = to_numpy(cast)
    return columns, problems
