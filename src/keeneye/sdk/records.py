"""Turn what a predict function receives and returns into one event per row.

A predict function may take a single record (a mapping), a list of records, a pandas or polars
DataFrame, a pyarrow Table, or a numpy array (1-D: one record, 2-D: one record per row). None of
the heavy libraries is imported here: an object is recognised by its type's module, so using the
SDK without pandas never imports pandas.

>>> rows_from_inputs({"age": 31, "plan": "pro"})
([{'age': 31, 'plan': 'pro'}], True)
>>> rows_from_inputs([[1.0, 2.0], [3.0, 4.0]], feature_names=["a", "b"])
([{'a': 1.0, 'b': 2.0}, {'a': 3.0, 'b': 4.0}], False)
>>> split_outputs([0, 1], 2, single=False)
[0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from keeneye.errors import InputError

SUPPORTED_INPUTS = (
    "a mapping (one record), a list of mappings, a pandas/polars DataFrame, a pyarrow Table, "
    "or a numpy array (1-D: one record, 2-D: one row per record)"
)


def _module_of(obj: object) -> str:
    return type(obj).__module__.partition(".")[0]


def default_feature_names(n: int) -> list[str]:
    """Names used for array columns when no ``feature_names`` are given (scikit-learn's style).

    >>> default_feature_names(3)
    ['x0', 'x1', 'x2']
    """
    return [f"x{i}" for i in range(n)]


def _names_for(n: int, feature_names: Sequence[str] | None) -> list[str]:
    if feature_names is None:
        return default_feature_names(n)
    names = [str(name) for name in feature_names]
    if len(names) != n:
        raise InputError(
            f"feature_names has {len(names)} names but the input rows have {n} values; "
            "pass one name per column"
        )
    return names


def _rows_from_lists(rows: Sequence[Any], feature_names: Sequence[str] | None) -> list[dict]:
    if not rows:
        return []
    names = _names_for(len(rows[0]), feature_names)
    out = []
    for i, row in enumerate(rows):
        if len(row) != len(names):
            raise InputError(f"row {i} has {len(row)} values, expected {len(names)} like row 0")
        out.append(dict(zip(names, row, strict=True)))
    return out


def rows_from_inputs(
    inputs: Any, feature_names: Sequence[str] | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Split ``inputs`` into per-row feature dicts; also say whether it was a single record.

    Values are kept as given (numpy scalars become Python numbers, a wrong type stays wrong:
    the collector counts it as an invalid value).

    Raises :class:`~keeneye.errors.InputError` for an input type it cannot read.
    """
    if isinstance(inputs, Mapping):
        return [dict(inputs)], True
    module = _module_of(inputs)
    if module == "pandas":
        if hasattr(inputs, "columns"):  # DataFrame
            columns = [str(c) for c in inputs.columns]
            records = inputs.to_dict("records")  # boxes numpy scalars to Python ones
            return [dict(zip(columns, r.values(), strict=True)) for r in records], False
        if hasattr(inputs, "index") and hasattr(inputs, "to_dict"):  # Series: one record
            return [{str(k): v for k, v in inputs.to_dict().items()}], True
    if module == "polars" and hasattr(inputs, "to_dicts"):
        return [dict(r) for r in inputs.to_dicts()], False
    if module == "pyarrow" and hasattr(inputs, "to_pylist"):
        return [dict(r) for r in inputs.to_pylist()], False
    if module == "numpy" and hasattr(inputs, "ndim"):
        if inputs.ndim == 1:
            return _rows_from_lists([inputs.tolist()], feature_names), True
        if inputs.ndim == 2:
            return _rows_from_lists(inputs.tolist(), feature_names), False
        raise InputError(f"a numpy array of {inputs.ndim} dimensions; pass 1-D or 2-D arrays")
    if isinstance(inputs, (list, tuple)):
        if not inputs:
            return [], False
        first = inputs[0]
        if isinstance(first, Mapping):
            rows = []
            for i, row in enumerate(inputs):
                if not isinstance(row, Mapping):
                    raise InputError(f"record {i} is a {type(row).__name__}, expected a mapping")
                rows.append(dict(row))
            return rows, False
        if isinstance(first, (list, tuple)) or _module_of(first) == "numpy":
            return _rows_from_lists([list(r) for r in inputs], feature_names), False
        # a flat list of scalars is one record given positionally
        return _rows_from_lists([list(inputs)], feature_names), True
    raise InputError(
        f"cannot read predict inputs of type {type(inputs).__name__}; pass {SUPPORTED_INPUTS}"
    )


def _as_list(values: Any) -> list[Any] | None:
    """A list for list-likes (list, tuple, numpy array, pandas Series/Index), else None."""
    if isinstance(values, list):
        return values
    if isinstance(values, tuple):
        return list(values)
    module = _module_of(values)
    if module in ("numpy", "pandas", "polars", "pyarrow") and hasattr(values, "tolist"):
        if getattr(values, "ndim", 1) == 2 and values.shape[1] == 1:
            values = values.reshape(-1) if module == "numpy" else values.iloc[:, 0]
        out = values.tolist()
        return out if isinstance(out, list) else None
    if module == "pyarrow" and hasattr(values, "to_pylist"):
        return list(values.to_pylist())
    return None


def scalar(value: Any) -> Any:
    """A numpy scalar as the Python number it holds; anything else unchanged.

    >>> import numpy as np
    >>> type(scalar(np.int64(3))).__name__, scalar("a")
    ('int', 'a')
    """
    if _module_of(value) == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return value.item()
    return value


def split_outputs(outputs: Any, n_rows: int, *, single: bool) -> list[Any]:
    """One prediction per row from what a predict function returned.

    A single record may get a scalar or a one-element array; ``n_rows`` records must get a
    list-like of ``n_rows`` values.

    >>> import numpy as np
    >>> split_outputs(np.array([0.5]), 1, single=True)
    [0.5]
    >>> split_outputs([1, 2], 3, single=False)
    Traceback (most recent call last):
    ...
    keeneye.errors.InputError: predict returned 2 values for 3 input rows; ...
    """
    values = _as_list(outputs)
    if single:
        if values is not None and len(values) == 1:
            return [scalar(values[0])]
        return [scalar(outputs) if values is None else values]
    if values is None:
        raise InputError(
            f"predict returned a {type(outputs).__name__} for {n_rows} input rows; "
            "return one prediction per row"
        )
    if len(values) != n_rows:
        raise InputError(
            f"predict returned {len(values)} values for {n_rows} input rows; "
            "return one prediction per row"
        )
    return values


def split_probabilities(
    probabilities: Any, n_rows: int, classes: Sequence[Any] | None = None
) -> list[Any]:
    """Per-row class probabilities (``{class: p}`` when classes are known, else a list).

    Accepts a 2-D array / list of lists (rows × classes), a list of mappings, a pandas
    DataFrame (its columns are the classes) or, for one row, a 1-D array or a mapping.

    >>> split_probabilities([[0.2, 0.8]], 1, classes=["no", "yes"])
    [{'no': 0.2, 'yes': 0.8}]
    >>> split_probabilities({"no": 0.3, "yes": 0.7}, 1)
    [{'no': 0.3, 'yes': 0.7}]
    """
    if isinstance(probabilities, Mapping):
        rows: list[Any] = [probabilities]
    elif _module_of(probabilities) == "pandas" and hasattr(probabilities, "columns"):
        classes = list(probabilities.columns)
        rows = probabilities.to_numpy().tolist()
    else:
        listed = _as_list(probabilities)
        if listed is None:
            raise InputError(
                f"probabilities of type {type(probabilities).__name__}; pass a rows × classes "
                "array, a list of {class: p} mappings, or a DataFrame with one column per class"
            )
        if listed and not isinstance(listed[0], (list, tuple, Mapping)):
            listed = [listed]  # one row given as a flat vector
        rows = listed
    if len(rows) != n_rows:
        raise InputError(f"probabilities have {len(rows)} rows for {n_rows} input rows")
    out: list[Any] = []
    for row in rows:
        if isinstance(row, Mapping):
            out.append({str(scalar(k)): scalar(v) for k, v in row.items()})
        elif classes is not None:
            if len(classes) != len(row):
                raise InputError(
                    f"{len(row)} probabilities for {len(classes)} classes; "
                    "pass classes= matching the predict_proba columns"
                )
            out.append({str(scalar(c)): scalar(p) for c, p in zip(classes, row, strict=True)})
        else:
            out.append([scalar(p) for p in row])
    return out


def confidence(probabilities: Any) -> float | None:
    """The largest finite class probability of one row, or None.

    >>> confidence({"no": 0.25, "yes": 0.75})
    0.75
    >>> confidence([float("nan")]) is None
    True
    """
    values = probabilities.values() if isinstance(probabilities, Mapping) else probabilities
    best: float | None = None
    for p in values:
        finite = isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p)
        if finite and (best is None or p > best):
            best = float(p)
    return best
