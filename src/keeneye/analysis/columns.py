"""Window columns as the numpy arrays the summaries take — through the same conversion as the
comparison core (:mod:`keeneye.tables`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from keeneye.schema import FeatureKind
from keeneye.tables import as_kind, infer_kind, to_numpy


def column_kinds(table: pa.Table) -> dict[str, FeatureKind | None]:
    """The kind of each column as the comparison core infers it (``None``: not testable)."""
    out: dict[str, FeatureKind | None] = {}
    for name in table.column_names:
        guess = infer_kind(table.column(name))
        out[name] = guess.kind if guess.untested is None else None
    return out


def to_columns(
    table: pa.Table, kinds: Mapping[str, FeatureKind | None]
) -> tuple[dict[str, np.ndarray | pa.ChunkedArray], dict[str, str]]:
    """``(columns, problems)``: each column of ``kinds`` that ``table`` has, cast to its kind —
    numbers as numpy float64, categories and booleans as the Arrow column (the summaries count
    them with Arrow's hash kernel, the same counts as of a numpy object array without a Python
    string per row); a column that cannot be cast is named in ``problems`` with the reason."""
    columns: dict[str, np.ndarray | pa.ChunkedArray] = {}
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
        columns[name] = to_numpy(cast) if pa.types.is_floating(cast.type) else cast
    return columns, problems
