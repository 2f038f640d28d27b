"""Identifier-like columns: row ids, keys and timestamps are not features.

Testing an ``id`` column for drift fails any comparison of two samples of the same table (the
ids of new rows are new values), so ``keeneye compare`` leaves such columns untested by
default and says why. A column is identifier-like when

* its name looks like one: ``id``, ``uuid``, ``guid``, ``key``, ``index``, ``…_id``,
  ``…_uuid``, ``…Id``; or like a time stamp: ``timestamp``, ``ts``, ``time``, ``date``,
  ``datetime``, ``…_at``, ``…_ts``, ``…_time``, ``…_timestamp``, ``…_date``; or
* it holds integers or strings that are unique per row on each side and shared by no row of
  the other side (ids of different rows), with at least :data:`MIN_ROWS` values on each side.

Timestamp-, date- and time-typed columns are not tested anyway (their kind is datetime, with
that reason). Pure functions over Arrow arrays.

>>> import pyarrow as pa
>>> identifier_reason("customer_id", pa.chunked_array([[1, 2]]), pa.chunked_array([[3, 4]]))
"named like an identifier ('customer_id')"
>>> identifier_reason("age", pa.chunked_array([[31, 40]]), pa.chunked_array([[35, 31]])) is None
True
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from keeneye.kinds import KINDS
from keeneye.schema import FeatureKind

#: The fewest values on each side for the "unique per row" rule (a handful of rows are
#: unique by chance).
MIN_ROWS = 20

# The names and suffixes come from the table of kinds (keeneye.kinds): the identifier and the
# datetime (time stamp) entries.
_ID = KINDS[FeatureKind.IDENTIFIER]
_TIME = KINDS[FeatureKind.TIMESTAMP]
_ID_NAMES = _ID.names
_TIME_NAMES = _TIME.names
# camelCase ids (``customerId``, ``orderUUID``) for the id and uuid suffixes.
_CAMEL = ("Id", "ID", "Uuid", "UUID")
_ID_SUFFIX = re.compile(
    rf"(?:[_\-. ](?:{'|'.join(map(re.escape, _ID.suffixes))})|[a-z0-9](?:{'|'.join(_CAMEL)}))$"
)
_TIME_SUFFIX = re.compile(rf"[_\-. ](?:{'|'.join(map(re.escape, _TIME.suffixes))})$", re.IGNORECASE)


def _named_like(name: str) -> str | None:
    lowered = name.strip().lower()
    if (
        lowered in _ID_NAMES
        or _ID_SUFFIX.search(name.strip())
        or (lowered.endswith(("_id", "_uuid", "-id")))
    ):
        return f"named like an identifier ({name!r})"
    if lowered in _TIME_NAMES or _TIME_SUFFIX.search(name.strip()):
        return f"named like a timestamp ({name!r})"
    return None


def _is_time(type_: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(type_) or pa.types.is_date(type_) or pa.types.is_time(type_))


#: Rows looked at first: a repeated value among them settles that a column is no identifier
#: without hashing all of it.
_PREFIX_ROWS = 4_096


def _unique_values(column: pa.ChunkedArray) -> pa.Array | None:
    """The column's values when every non-null one is distinct, else ``None``."""
    if len(column) > _PREFIX_ROWS:
        prefix = pc.drop_null(column.slice(0, _PREFIX_ROWS))
        if len(pc.unique(prefix)) < len(prefix):
            return None
    values = pc.drop_null(column)
    if len(values) < MIN_ROWS:
        return None
    distinct = pc.unique(values)
    return distinct if len(distinct) == len(values) else None


def identifier_reason(
    name: str, reference: pa.ChunkedArray, current: pa.ChunkedArray
) -> str | None:
    """Why the column ``name`` looks like an identifier or a timestamp, or ``None``."""
    named = _named_like(name)
    if named is not None:
        return named
    if _is_time(reference.type) or _is_time(current.type):
        return None  # a datetime column: not tested, with that reason
    kinds = (pa.types.is_integer, pa.types.is_string, pa.types.is_large_string)
    if not all(any(k(c.type) for k in kinds) for c in (reference, current)):
        return None
    if reference.type != current.type:
        return None
    ref_unique = _unique_values(reference)
    cur_unique = _unique_values(current)
    if ref_unique is None or cur_unique is None:
        return None
    if pc.any(pc.is_in(cur_unique, value_set=ref_unique)).as_py():
        return None
    return "unique per row, and no value shared between reference and current (row ids)"
