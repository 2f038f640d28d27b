"""How a value sent by a model is typed, and how it is kept as text when it is invalid.

Pure functions shared by every store backend, so that all backends type values the same way.

>>> value_type(3), value_type(2.5), value_type("pro"), value_type(True), value_type(None)
('numeric', 'numeric', 'categorical', 'boolean', None)
>>> value_type([1, 2])
'unsupported'
>>> raw_text("cat"), raw_text(float("nan"))
('"cat"', 'NaN')
"""

from __future__ import annotations

import json
import numbers
from datetime import date, datetime
from enum import Enum
from typing import Any

from keeneye.kinds import ingest_type, ingest_types
from keeneye.schema import FeatureKind

# The stored types of raw values, from the table of kinds (keeneye.kinds).
NUMERIC = ingest_type(FeatureKind.NUMERIC)
CATEGORICAL = ingest_type(FeatureKind.CATEGORICAL)
BOOLEAN = ingest_type(FeatureKind.BOOLEAN)
UNSUPPORTED = "unsupported"

#: Reserved names under which problems of the prediction and of the label are counted.
PREDICTION_KEY = "__prediction__"
LABEL_KEY = "__label__"
RESERVED_NAMES = frozenset({PREDICTION_KEY, LABEL_KEY})

#: Reasons recorded in the invalid-values table.
REASON_TYPE = "type"
REASON_UNKNOWN_FEATURE = "unknown_feature"
REASON_UNSUPPORTED = "unsupported"
REASON_MISSING = "missing"

# Exact-type lookup first (the hot path: JSON gives only these types), built from the table of
# kinds. It is keyed by the exact type, so ``bool`` (a subclass of ``int``) is never a number.
_FAST: dict[type, str | None] = {**ingest_types(), type(None): None}


def value_type(value: Any) -> str | None:
    """The stored type a value asks for, ``None`` for a missing value.

    Exact Python types are looked up in the table of kinds (:func:`keeneye.kinds.ingest_types`);
    numpy scalars and other number or string types fall back on the same kinds.
    """
    try:
        return _FAST[type(value)]
    except KeyError:
        pass
    # numpy scalars and other number types that callers of the Python API may hand in.
    type_name = type(value).__name__
    if type_name in ("bool_", "bool"):
        return BOOLEAN
    if isinstance(value, numbers.Real):
        return NUMERIC
    if isinstance(value, str):
        return CATEGORICAL
    return UNSUPPORTED


def as_float(value: Any) -> float | None:
    """The float of a numeric value, ``None`` when it does not fit a double."""
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return repr(value)


def raw_text(value: Any) -> str:
    """The value as JSON text (strings keep their quotes, so ``"1"`` and ``1`` differ)."""
    return json.dumps(value, default=_json_default, allow_nan=True)


def dumps(value: Any) -> str:
    """JSON text of a payload; NaN and infinities are kept (Python's JSON literals)."""
    return json.dumps(value, default=_json_default, allow_nan=True, separators=(",", ":"))
