"""The Open Inference Protocol (V2, as in KServe, Seldon Core v2 and MLServer): request decoding
and response encoding for tabular models.

A column model takes one V2 input per column (shape ``[n]`` or ``[n, 1]``, named like the
column); a tensor model takes one input of shape ``[n, k]``. Every refusal is a 400 naming the
input:

>>> from keeneye.modelserver.signature import InputColumn, ModelInputs
>>> inputs = ModelInputs.from_columns([InputColumn("age", "long")])
>>> request = {"inputs": [{"name": "age", "shape": [2], "datatype": "INT64", "data": [31, 40]}]}
>>> decode_request(request, inputs).frame["age"].tolist()
[31, 40]
>>> bad = {"inputs": [{"name": "age", "shape": [2], "datatype": "FP64", "data": [31.5, 40]}]}
>>> decode_request(bad, inputs)
Traceback (most recent call last):
...
keeneye.server.errors.ApiError: age: datatype FP64 does not match MLflow type 'long'; send INT64
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from keeneye.modelserver.signature import (
    ACCEPTS,
    InputColumn,
    ModelInputs,
    invalid_input,
    value_kind,
)
from keeneye.server.errors import ApiError

#: V2 datatype → the kind of JSON value it carries.
DATATYPE_KINDS: dict[str, str] = {
    "BOOL": "bool",
    **{f"INT{b}": "int" for b in (8, 16, 32, 64)},
    **{f"UINT{b}": "int" for b in (8, 16, 32, 64)},
    **{f"FP{b}": "float" for b in (16, 32, 64)},
    "BYTES": "str",
}

#: V2 datatype → numpy dtype, for inputs of a model without a signature.
DATATYPE_DTYPES: dict[str, str] = {
    "BOOL": "bool",
    **{f"INT{b}": f"int{b}" for b in (8, 16, 32, 64)},
    **{f"UINT{b}": f"uint{b}" for b in (8, 16, 32, 64)},
    **{f"FP{b}": f"float{b}" for b in (16, 32, 64)},
    "BYTES": "object",
}

#: MLflow column type → the V2 datatype to send.
MLFLOW_DATATYPES: dict[str, str] = {
    "long": "INT64",
    "integer": "INT32",
    "double": "FP64",
    "float": "FP32",
    "string": "BYTES",
    "boolean": "BOOL",
    "datetime": "BYTES",
    "binary": "BYTES",
}

PREDICT_OUTPUT = "predict"
PROBA_OUTPUT = "predict_proba"


@dataclass(frozen=True)
class DecodedRequest:
    """A V2 infer request turned into the model's input (``frame``: DataFrame or 2-D array)."""

    frame: Any
    rows: int
    request_id: str | None
    outputs: tuple[str, ...] | None


def datatype_of(array: np.ndarray) -> str:
    """The V2 datatype of a numpy array.

    >>> datatype_of(np.array([1, 2])), datatype_of(np.array(["a"], dtype=object))
    ('INT64', 'BYTES')
    """
    kind = array.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return f"{'U' if kind == 'u' else ''}INT{array.dtype.itemsize * 8}"
    if kind == "f":
        return f"FP{array.dtype.itemsize * 8}"
    return "BYTES"


def input_metadata(inputs: ModelInputs | None) -> list[dict[str, Any]]:
    """The ``inputs`` of the V2 model metadata."""
    if inputs is None:
        return []
    if inputs.columns is not None:
        return [
            {
                "name": c.name,
                "datatype": MLFLOW_DATATYPES.get(c.type or "", "FP64"),
                "shape": [-1],
                "parameters": {"mlflow_type": c.type, "required": c.required},
            }
            for c in inputs.columns
        ]
    assert inputs.tensor is not None
    dtype = np.dtype(inputs.tensor.dtype)
    return [
        {
            "name": "input-0",
            "datatype": datatype_of(np.empty(0, dtype)),
            "shape": [-1, inputs.tensor.width if inputs.tensor.width is not None else -1],
        }
    ]


def _flatten(data: Any, out: list[Any]) -> None:
    for item in data:
        if isinstance(item, list):
            _flatten(item, out)
        else:
            out.append(item)


def _tensor(item: Any, index: int) -> tuple[str, list[int], str, list[Any]]:
    """Check one V2 input tensor's envelope; returns name, shape, datatype and flat data."""
    if not isinstance(item, Mapping):
        raise ApiError(400, "invalid_request", f"inputs[{index}]: expected an object")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "invalid_request", f"inputs[{index}].name: expected a string")
    shape = item.get("shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(type(d) is int and d >= 0 for d in shape)
    ):
        raise invalid_input(name, f"shape {shape!r} must be a list of non-negative integers")
    datatype = item.get("datatype")
    if not isinstance(datatype, str) or datatype not in DATATYPE_KINDS:
        raise invalid_input(
            name, f"datatype {datatype!r} is unknown; use one of {sorted(DATATYPE_KINDS)}"
        )
    data = item.get("data")
    if not isinstance(data, list):
        raise invalid_input(name, "data must be a list (row-major, flat or nested)")
    flat: list[Any] = []
    _flatten(data, flat)
    if len(flat) != math.prod(shape):
        raise invalid_input(
            name,
            f"shape {shape} needs {math.prod(shape)} values, data has {len(flat)}",
            shape=shape,
        )
    kind = DATATYPE_KINDS[datatype]
    for j, value in enumerate(flat):
        got = value_kind(value)
        if got != kind and not (kind == "float" and got == "int"):
            raise invalid_input(
                name, f"value {j} is {value!r}, not a valid {datatype} value", index=j
            )
    return name, shape, datatype, flat


def decode_request(payload: Any, inputs: ModelInputs | None) -> DecodedRequest:
    """Check a V2 infer request against the model's inputs and build the model's input."""
    if not isinstance(payload, Mapping):
        raise ApiError(400, "invalid_request", "request: expected a JSON object with 'inputs'")
    items = payload.get("inputs")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "invalid_request", "inputs: expected a non-empty list of input tensors")
    tensors = [_tensor(item, i) for i, item in enumerate(items)]
    request_id = payload.get("id")
    outputs = _requested_outputs(payload.get("outputs"))
    rid = str(request_id) if request_id is not None else None
    if inputs is not None and inputs.tensor is not None:
        return DecodedRequest(_decode_tensor(tensors, inputs), _rows(tensors), rid, outputs)
    return DecodedRequest(_decode_columns(tensors, inputs), _rows(tensors), rid, outputs)


def _rows(tensors: list[tuple[str, list[int], str, list[Any]]]) -> int:
    return tensors[0][1][0]


def _decode_tensor(
    tensors: list[tuple[str, list[int], str, list[Any]]], inputs: ModelInputs
) -> Any:
    assert inputs.tensor is not None
    if len(tensors) != 1:
        names = [t[0] for t in tensors]
        raise invalid_input(
            names[1], f"the model takes one tensor input, the request has {len(names)}: {names}"
        )
    name, shape, datatype, flat = tensors[0]
    width = inputs.tensor.width
    if len(shape) != 2 or (width is not None and shape[1] != width):
        want = f"[n, {width}]" if width is not None else "[n, k]"
        raise invalid_input(name, f"shape {shape} does not fit the model; send shape {want}")
    if DATATYPE_KINDS[datatype] not in ACCEPTS[inputs.tensor.kind]:
        raise invalid_input(
            name, f"datatype {datatype} does not match the model's {inputs.tensor.dtype} input"
        )
    rows = [flat[i * shape[1] : (i + 1) * shape[1]] for i in range(shape[0])]
    return inputs.tensor_array(rows)


def _decode_columns(
    tensors: list[tuple[str, list[int], str, list[Any]]], inputs: ModelInputs | None
) -> Any:
    import pandas as pd

    columns = {c.name: c for c in inputs.columns} if inputs is not None and inputs.columns else {}
    n_rows: int | None = None
    first = ""
    data: dict[str, list[Any]] = {}
    dtypes: dict[str, str] = {}
    for name, shape, datatype, flat in tensors:
        if columns and name not in columns:
            raise invalid_input(name, f"is not an input of the model; it takes {list(columns)}")
        if name in data:
            raise invalid_input(name, "appears twice in the request")
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
            raise invalid_input(
                name, f"shape {shape} is not one column; send shape [n] or [n, 1]", shape=shape
            )
        if n_rows is None:
            n_rows, first = shape[0], name
        elif shape[0] != n_rows:
            raise invalid_input(
                name, f"has {shape[0]} rows but input {first!r} has {n_rows}", shape=shape
            )
        column = columns.get(name)
        if column is not None and DATATYPE_KINDS[datatype] not in ACCEPTS[column.kind]:
            want = MLFLOW_DATATYPES.get(column.type or "", "FP64")
            raise invalid_input(
                name,
                f"datatype {datatype} does not match MLflow type {column.type!r}; send {want}",
                datatype=datatype,
                expected=want,
            )
        data[name] = flat
        dtypes[name] = DATATYPE_DTYPES[datatype]
    assert n_rows is not None
    missing = [c.name for c in columns.values() if c.required and c.name not in data]
    if missing:
        raise invalid_input(
            missing[0], f"is missing; the model needs inputs {list(columns)}", missing=missing
        )
    if inputs is not None and inputs.columns is not None:
        return inputs.frame(data, n_rows)
    # no signature: the request's own names and datatypes make the frame
    unknown = ModelInputs.from_columns([InputColumn(n) for n in data])
    frame = unknown.frame(data, n_rows)
    return pd.DataFrame({n: np.asarray(frame[n].tolist(), dtype=dtypes[n]) for n in data})


def _requested_outputs(outputs: Any) -> tuple[str, ...] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, list) or not all(
        isinstance(o, Mapping) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise ApiError(400, "invalid_request", 'outputs: expected a list of {"name": ...}')
    return tuple(o["name"] for o in outputs)


def encode_outputs(
    predictions: np.ndarray,
    probabilities: np.ndarray | None,
    classes: list[Any] | None,
    requested: tuple[str, ...] | None,
) -> list[dict[str, Any]]:
    """The V2 ``outputs``: ``predict`` and, for classifiers, ``predict_proba`` (rows × classes,
    the class names in its ``parameters``)."""
    available: dict[str, dict[str, Any]] = {
        PREDICT_OUTPUT: {
            "name": PREDICT_OUTPUT,
            "shape": list(predictions.shape),
            "datatype": datatype_of(predictions),
            "data": predictions.ravel().tolist(),
        }
    }
    if probabilities is not None:
        available[PROBA_OUTPUT] = {
            "name": PROBA_OUTPUT,
            "shape": list(probabilities.shape),
            "datatype": datatype_of(probabilities),
            "data": probabilities.ravel().tolist(),
            "parameters": {"classes": classes},
        }
    if requested is None:
        return list(available.values())
    for name in requested:
        if name not in available:
            raise ApiError(
                400,
                "invalid_request",
                f"outputs: {name!r} is not an output of the model; it has {list(available)}",
            )
    return [available[name] for name in requested]
