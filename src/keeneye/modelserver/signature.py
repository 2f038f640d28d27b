"""What a served model takes as input, and the checks that turn request values into its frame.

A model's inputs are either named **columns** (an MLflow column signature, or the
``feature_names_in_`` of a scikit-learn model fitted on a DataFrame) or one 2-D numeric
**tensor** (an MLflow tensor signature). Request values are checked against them — never
coerced — and every refusal names the input and the fix:

>>> inputs = ModelInputs.from_columns([InputColumn("age", "long"), InputColumn("plan", "string")])
>>> frame = inputs.frame_from_records([{"age": 31, "plan": "pro"}])
>>> frame["age"].dtype, frame["plan"].tolist()
(dtype('int64'), ['pro'])
>>> inputs.frame_from_records([{"age": "old", "plan": "pro"}])
Traceback (most recent call last):
...
keeneye.server.errors.ApiError: records[0].age: expected an integer (MLflow type 'long'), got 'old'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from keeneye.server.errors import ApiError

if TYPE_CHECKING:
    import pandas as pd

#: MLflow column type → (kind of JSON value accepted, numpy dtype of the model frame).
COLUMN_TYPES: dict[str, tuple[str, str]] = {
    "long": ("int", "int64"),
    "integer": ("int", "int32"),
    "double": ("float", "float64"),
    "float": ("float", "float32"),
    "string": ("str", "object"),
    "boolean": ("bool", "bool"),
    "datetime": ("str", "object"),
    "binary": ("str", "object"),
}

#: Which value kinds a column kind accepts (an integer is a valid float, not the reverse).
ACCEPTS: dict[str, frozenset[str]] = {
    "int": frozenset({"int"}),
    "float": frozenset({"int", "float"}),
    "str": frozenset({"str"}),
    "bool": frozenset({"bool"}),
    "any": frozenset({"int", "float", "str", "bool"}),
}

_KIND_WORDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "any": "a number, string or boolean",
}


def value_kind(value: Any) -> str | None:
    """The JSON kind of a request value: ``int``, ``float``, ``str``, ``bool`` or None (other).

    >>> [value_kind(v) for v in (1, 1.5, "a", True, None, [1])]
    ['int', 'float', 'str', 'bool', None, None]
    """
    kind = type(value)
    if kind is bool:
        return "bool"
    if kind is int:
        return "int"
    if kind is float:
        return "float"
    if kind is str:
        return "str"
    return None


def invalid_input(name: str, message: str, **details: Any) -> ApiError:
    """A 400 ``invalid_input`` error naming the input."""
    return ApiError(400, "invalid_input", f"{name}: {message}", {"input": name, **details})


@dataclass(frozen=True)
class InputColumn:
    """One named input column; ``type`` is an MLflow column type, or None when unknown."""

    name: str
    type: str | None = None
    required: bool = True

    @property
    def kind(self) -> str:
        return COLUMN_TYPES[self.type][0] if self.type in COLUMN_TYPES else "any"

    @property
    def dtype(self) -> str | None:
        return COLUMN_TYPES[self.type][1] if self.type in COLUMN_TYPES else None

    def describe(self) -> str:
        word = _KIND_WORDS[self.kind]
        return f"{word} (MLflow type {self.type!r})" if self.type else word

    def check(self, value: Any, where: str) -> Any:
        """``value`` if this column accepts it; a 400 naming ``where`` otherwise."""
        if value is None or (type(value) is float and math.isnan(value)):
            if self.required and value is None:
                raise invalid_input(where, f"is required: expected {self.describe()}, got null")
            return value
        kind = value_kind(value)
        if kind is None or kind not in ACCEPTS[self.kind]:
            raise invalid_input(
                where, f"expected {self.describe()}, got {value!r}", expected=self.type
            )
        return value

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "required": self.required}


@dataclass(frozen=True)
class TensorInput:
    """One 2-D numeric array input; ``width`` is its number of columns (None: any)."""

    dtype: str
    width: int | None

    @property
    def kind(self) -> str:
        return "int" if np.dtype(self.dtype).kind in "iu" else "float"


@dataclass(frozen=True)
class ModelInputs:
    """The inputs of a model: named columns, or one tensor. See the module docstring."""

    columns: tuple[InputColumn, ...] | None = None
    tensor: TensorInput | None = None

    @classmethod
    def from_columns(cls, columns: Sequence[InputColumn]) -> ModelInputs:
        return cls(columns=tuple(columns))

    @classmethod
    def from_mlflow(cls, signature_inputs: Any) -> ModelInputs | None:
        """From an MLflow ``Schema`` of inputs (``signature.inputs``); None if unusable."""
        if signature_inputs is None:
            return None
        if signature_inputs.is_tensor_spec():
            specs = signature_inputs.inputs
            if len(specs) != 1 or len(specs[0].shape) != 2:
                return None
            spec = specs[0]
            width = spec.shape[1] if spec.shape[1] >= 0 else None
            return cls(tensor=TensorInput(str(np.dtype(spec.type)), width))
        columns = []
        for spec in signature_inputs.inputs:
            if spec.name is None:  # unnamed columns: a positional input we cannot check by name
                return None
            type_name = getattr(spec.type, "name", None)  # arrays and objects have none
            known = type_name if type_name in COLUMN_TYPES else None
            columns.append(InputColumn(str(spec.name), known, bool(spec.required)))
        return cls.from_columns(columns)

    @property
    def names(self) -> list[str]:
        """Feature names: the columns, or ``x0 … x{k-1}`` of a tensor of known width."""
        if self.columns is not None:
            return [c.name for c in self.columns]
        assert self.tensor is not None  # one of the two is always set
        return [f"x{i}" for i in range(self.tensor.width or 0)]

    def to_dict(self) -> dict[str, Any]:
        if self.columns is not None:
            return {"columns": [c.to_dict() for c in self.columns]}
        assert self.tensor is not None
        return {"tensor": {"dtype": self.tensor.dtype, "width": self.tensor.width}}

    # ---- building the model's input ----------------------------------------------------------

    def frame_from_records(self, records: Any) -> Any:
        """The model input for ``/predict`` records (a list of ``{feature: value}`` objects)."""
        if not isinstance(records, list) or not records:
            raise invalid_input("records", "expected a non-empty list of {feature: value} objects")
        for i, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise invalid_input(f"records[{i}]", f"expected an object, got {record!r}")
        if self.tensor is not None:
            names = self.names if self.tensor.width is not None else sorted(records[0])
            column = InputColumn("", "long" if self.tensor.kind == "int" else "double")
            values = [
                [column.check(_field(r, n, i), f"records[{i}].{n}") for n in names]
                for i, r in enumerate(records)
            ]
            _no_extra(records, set(names))
            return self.tensor_array(values)
        assert self.columns is not None
        data = {
            c.name: [c.check(_field(r, c.name, i, c.required), f"records[{i}].{c.name}") for i, r
                     in enumerate(records)]
            for c in self.columns
        }  # fmt: skip
        _no_extra(records, {c.name for c in self.columns})
        return self.frame(data, len(records))

    def frame(self, data: Mapping[str, list[Any]], n_rows: int) -> pd.DataFrame:
        """A DataFrame of checked column values, with the signature's dtypes."""
        import pandas as pd

        assert self.columns is not None
        out: dict[str, Any] = {}
        for c in self.columns:
            values = data.get(c.name, [None] * n_rows)
            has_null = any(v is None for v in values)
            if c.dtype in ("int64", "int32") and has_null:
                out[c.name] = np.array(
                    [np.nan if v is None else v for v in values], dtype="float64"
                )
            elif c.dtype is not None and c.dtype != "object" and not has_null:
                out[c.name] = np.array(values, dtype=c.dtype)
            elif c.dtype in ("float64", "float32"):
                out[c.name] = np.array([np.nan if v is None else v for v in values], dtype=c.dtype)
            else:
                out[c.name] = np.array(values, dtype=object)
        return pd.DataFrame(out)

    def tensor_array(self, rows: list[list[Any]]) -> np.ndarray:
        """A 2-D array of checked values with the tensor's dtype and width."""
        assert self.tensor is not None
        width = self.tensor.width
        for i, row in enumerate(rows):
            if width is not None and len(row) != width:
                raise invalid_input(
                    f"row {i}", f"has {len(row)} values; the model takes {width} features"
                )
        return np.array(rows, dtype=self.tensor.dtype)


def _field(record: Mapping[str, Any], name: str, row: int, required: bool = True) -> Any:
    if name not in record:
        if not required:
            return None
        raise invalid_input(f"records[{row}].{name}", "is missing; the model needs this feature")
    return record[name]


def _no_extra(records: Sequence[Mapping[str, Any]], known: set[str]) -> None:
    for i, record in enumerate(records):
        extra = sorted(set(record) - known)
        if extra:
            raise invalid_input(
                f"records[{i}].{extra[0]}",
                f"is not an input of the model; it takes {sorted(known)}",
            )
