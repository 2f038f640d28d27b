"""Which predictions are classes, and their names: a classifier's prediction is a category
(tested with chi-square), and a class logged as ``1`` and stored as ``1.0`` is one class."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Integer-valued predictions with at most this many distinct values are classes.
MAX_CLASSES = 20


def is_class_column(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether predictions are classes: strings, booleans, or integer values with few
    distinct values (a regressor's float outputs are not).

    >>> is_class_column(pa.array([0, 1, 1])), is_class_column(pa.array([0.0, 1.0]))
    (True, True)
    >>> is_class_column(pa.array([0.25, 1.5])), is_class_column(pa.array(["a"]))
    (False, True)
    """
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind):
        return True
    if pa.types.is_integer(kind):
        return len(pc.unique(column)) <= MAX_CLASSES
    if pa.types.is_floating(kind):
        values = np.asarray(pc.drop_null(column).to_numpy(zero_copy_only=False), dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size == 0 or not np.all(finite == np.round(finite)):
            return False
        return len(np.unique(finite)) <= MAX_CLASSES
    return False


def class_labels(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Predictions as class names: integral numbers print without a decimal part, so a class
    logged as ``1`` and stored as ``1.0`` is the same category.

    >>> class_labels(pa.array([1.0, 0.0, None])).to_pylist()
    ['1', '0', None]
    >>> class_labels(pa.array([True, False])).to_pylist()
    ['true', 'false']
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_floating(kind):
        values = column.to_numpy(zero_copy_only=False)
        integral = np.isfinite(values) & (values == np.round(values))
        texts = [
            None if v is None else (str(int(v)) if ok else repr(v))
            for v, ok in zip(column.to_pylist(), integral.tolist(), strict=True)
        ]
        return pa.array(texts, type=pa.string())
    return pc.cast(column, pa.string())


__all__ = ["MAX_CLASSES", "class_labels", "is_class_column"]
