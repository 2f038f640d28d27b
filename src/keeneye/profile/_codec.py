"""Typed JSON for frozen dataclasses: one encoder and one decoder driven by the type hints.

``encode`` turns a dataclass (and the enums, tuples, mappings and numbers inside it) into plain
JSON values: NaN and infinities become ``None``, enums their value, tuples lists, mappings with
string keys objects and any other mapping a list of ``[key, value]`` pairs (JSON object keys are
strings; category labels and quantile levels are not). ``decode(cls, data)`` reads that back
into ``cls``, field by field, by the annotations; a field missing from ``data`` takes its
default, unknown keys are ignored (a newer writer may add some).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union

import numpy as np

T = TypeVar("T")


def encode(value: Any) -> Any:
    """Plain JSON values for ``value`` (see the module docstring)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return encode(value.value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return [[encode(k), encode(v)] for k, v in value.items()]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [encode(v) for v in sorted(value, key=str)]
    return str(value)


@cache
def _hints(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.init)


@cache
def _defaults(cls: type) -> frozenset[str]:
    """Fields that are not optional but have a default (``None`` in data means: default)."""
    hints = dict(_hints(cls))
    out = set()
    for f in dataclasses.fields(cls):
        has_default = f.default is not dataclasses.MISSING or (
            f.default_factory is not dataclasses.MISSING
        )
        if has_default and type(None) not in typing.get_args(hints.get(f.name)):
            out.add(f.name)
    return frozenset(out)


def decode(cls: type[T], data: Any) -> T:
    """``data`` (as :func:`encode` wrote it) read back as ``cls``."""
    return typing.cast(T, _decode(cls, data))


def _decode(tp: Any, data: Any) -> Any:
    if tp is Any or tp is object:
        return data
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if data is None:
            if type(None) in args:
                return None
            return _decode(args[0], data)
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(arg, data)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"{data!r} matches none of {tp}")
    if origin is typing.Literal:
        return data
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, Mapping):
            raise TypeError(f"{tp.__name__} needs an object, got {data!r}")
        kwargs = {
            name: _decode(hint, data[name])
            for name, hint in _hints(tp)
            # A number stored as null (it was NaN or infinite) takes a non-optional field's
            # default when it has one.
            if name in data and not (data[name] is None and name in _defaults(tp))
        }
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(data)
    if tp is float:
        if data is None:
            return math.nan
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise TypeError(f"not a number: {data!r}")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            if isinstance(data, float) and data.is_integer():
                return int(data)
            raise TypeError(f"not an integer: {data!r}")
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise TypeError(f"not a boolean: {data!r}")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise TypeError(f"not a string: {data!r}")
        return data
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v) for v in data)
        return tuple(_decode(a, v) for a, v in zip(args, data, strict=True))
    if origin in (dict, Mapping, typing.Mapping) or tp in (dict, Mapping):
        args = typing.get_args(tp) or (Any, Any)
        key_type, value_type = args
        items = data.items() if isinstance(data, Mapping) else data
        return {_decode_key(key_type, k): _decode(value_type, v) for k, v in items}
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        return [_decode(arg, v) for v in data]
    raise TypeError(f"cannot decode type {tp!r}")


def _decode_key(tp: Any, key: Any) -> Any:
    if tp is float and isinstance(key, str):
        return float(key)
    return _decode(tp, key)
