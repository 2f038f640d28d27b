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
from collections.abc import Callable, Mapping
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
    return typing.cast(T, _decoder(typing.cast(Any, cls))(data))


Decoder = Callable[[Any], Any]


def _identity(data: Any) -> Any:
    return data


@cache
def _decoder(tp: Any) -> Decoder:
    """A decoding function for type ``tp``, built once per type (pages decode thousands)."""
    if tp is Any or tp is object:
        return _identity
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return _union_decoder(typing.get_args(tp))
    if origin is typing.Literal:
        return _identity
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp
    if tp is float:
        return _float
    if tp is int:
        return _int
    if tp is bool:
        return _bool
    if tp is str:
        return _str
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda data: tuple(item(v) for v in data)
        items = tuple(_decoder(a) for a in args)
        return lambda data: tuple(f(v) for f, v in zip(items, data, strict=True))
    if origin in (dict, Mapping, typing.Mapping) or tp in (dict, Mapping):
        key_type, value_type = typing.get_args(tp) or (Any, Any)
        key = _float_key if key_type is float else _decoder(key_type)
        value = _decoder(value_type)

        def mapping(data: Any) -> dict[Any, Any]:
            items = data.items() if isinstance(data, Mapping) else data
            return {key(k): value(v) for k, v in items}

        return mapping
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        item = _decoder(arg)
        return lambda data: [item(v) for v in data]
    raise TypeError(f"cannot decode type {tp!r}")


def _union_decoder(args: tuple[Any, ...]) -> Decoder:
    optional = type(None) in args
    choices = tuple(_decoder(a) for a in args if a is not type(None))

    def union(data: Any) -> Any:
        if data is None:
            if optional:
                return None
            return choices[0](data)
        for choice in choices:
            try:
                return choice(data)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"{data!r} matches none of the types {args}")

    return union


def _dataclass_decoder(cls: type) -> Decoder:
    fields = tuple((name, _decoder(hint)) for name, hint in _hints(cls))
    defaults = _defaults(cls)

    def dataclass(data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} needs an object, got {data!r}")
        kwargs = {}
        for name, decode_field in fields:
            if name not in data:
                continue
            value = data[name]
            # A number stored as null (it was NaN or infinite) takes a non-optional field's
            # default when it has one.
            if value is None and name in defaults:
                continue
            kwargs[name] = decode_field(value)
        return cls(**kwargs)

    return dataclass


def _float(data: Any) -> float:
    if data is None:
        return math.nan
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise TypeError(f"not a number: {data!r}")
    return float(data)


def _int(data: Any) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        if isinstance(data, float) and data.is_integer():
            return int(data)
        raise TypeError(f"not an integer: {data!r}")
    return data


def _bool(data: Any) -> bool:
    if not isinstance(data, bool):
        raise TypeError(f"not a boolean: {data!r}")
    return data


def _str(data: Any) -> str:
    if not isinstance(data, str):
        raise TypeError(f"not a string: {data!r}")
    return data


def _float_key(key: Any) -> float:
    return float(key) if isinstance(key, str) else _float(key)
