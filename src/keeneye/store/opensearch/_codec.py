"""How events, labels and catalog entries look as OpenSearch documents, and back.

JSON cannot carry NaN or ±inf: a double field keeps them as text under ``nonfinite``, a feature
under ``f`` as its text (``'nan'``, ``'inf'``); search-box text becomes the term that
``flat_object``/``flattened`` indexed.

>>> doc, nonfinite = {}, {}
>>> encode_num(float("inf"), "prediction_num", doc, nonfinite)
>>> doc, nonfinite
({}, {'prediction_num': 'inf'})
>>> decode_num({"nonfinite": nonfinite}, "prediction_num")
inf
>>> search_text("31", "numeric")
'31.0'
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from keeneye.errors import InputError
from keeneye.store._values import BOOLEAN, CATEGORICAL, NUMERIC

SUFFIX = {NUMERIC: "num", CATEGORICAL: "str", BOOLEAN: "bool"}
"""The field suffix of a value of each kind: ``prediction_num``, ``label_str``, ..."""


def encode_num(value: Any, name: str, doc: dict[str, Any], nonfinite: dict[str, str]) -> None:
    """A double field; NaN and ±inf (which JSON cannot carry) go to ``nonfinite`` as text."""
    if value is None:
        return
    if math.isfinite(value):
        doc[name] = value
    else:
        nonfinite[name] = repr(float(value))  # 'nan', 'inf', '-inf'


def decode_num(source: Mapping[str, Any], name: str) -> float | None:
    value = source.get(name)
    if value is not None:
        return float(value)
    text = (source.get("nonfinite") or {}).get(name)
    return None if text is None else float(text)


def flat_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def doc_id(*parts: str) -> str:
    text = "\x1f".join(parts)
    if len(text.encode()) <= 500:
        return text
    return hashlib.sha256(text.encode()).hexdigest()


def from_us(value: float | None) -> datetime | None:
    if value is None:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value))


def typed(value: Any, kind: str) -> Any:
    """A value of ``f`` as its feature's type (NaN and ±inf are kept there as text)."""
    return float(value) if kind == NUMERIC else value


def search_text(value: str, kind: str | None) -> str:
    """A feature value typed in a search box as the text ``flat_object`` indexed."""
    if kind == NUMERIC:
        try:
            number = float(value)
        except ValueError as exc:
            raise InputError(
                f"feature value {value!r} is not a number; type e.g. 31 or 2.5"
            ) from exc
        return repr(number)
    if kind == BOOLEAN:
        return "true" if value.strip().lower() in ("true", "1", "yes") else "false"
    return value


def prediction_filter(value: str, kind: str) -> dict[str, Any]:
    if kind == NUMERIC:
        try:
            return {"term": {"prediction_num": float(value)}}
        except ValueError as exc:
            raise InputError(f"prediction {value!r} is not a number; type e.g. 0.5") from exc
    if kind == BOOLEAN:
        return {"term": {"prediction_bool": value.strip().lower() in ("true", "1", "yes")}}
    return {"term": {"prediction_str": value}}
