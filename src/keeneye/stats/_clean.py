"""Turning raw 1-D inputs into the clean arrays the tests need, counting what was dropped.

Numeric inputs become sorted-ready float64 arrays of finite values; categorical inputs become
label counts. Nothing is silently coerced: missing values, NaN, ±inf and values of the wrong
type are counted and handed back so results can report them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike, NDArray

from keeneye.errors import InputError
from keeneye.stats._kernels import padded_buffer, sort_with_sentinel
from keeneye.stats._robust import SortedMoments, sorted_moments

FloatArray = NDArray[np.float64]

_NUMERIC_DTYPE_KINDS = "biuf"


@dataclass(frozen=True)
class NumericCounts:
    """How many values of a numeric input were not finite numbers."""

    total: int
    missing: int = 0  # None / pd.NA in object arrays
    nan: int = 0
    pos_inf: int = 0
    neg_inf: int = 0
    wrong_type: int = 0
    wrong_type_example: str | None = None

    @property
    def dropped(self) -> int:
        return self.missing + self.nan + self.pos_inf + self.neg_inf + self.wrong_type

    def to_dict(self) -> dict[str, int]:
        """Non-zero counts only, so clean inputs add nothing to a result's details."""
        counts = {
            "missing": self.missing,
            "nan": self.nan,
            "pos_inf": self.pos_inf,
            "neg_inf": self.neg_inf,
            "wrong_type": self.wrong_type,
        }
        return {name: count for name, count in counts.items() if count}


@dataclass(frozen=True)
class SortedNumbers:
    """A numeric column's finite values, sorted, and the counts of the values dropped.

    What the drift engine and the summaries both start from, computed once per column
    (:func:`sorted_numbers`). The values are stored with a ``+inf`` after the last one, which
    the compiled merge reads (:func:`keeneye.stats._kernels.with_sentinel`).
    """

    values: FloatArray
    counts: NumericCounts
    #: The values' mean, standard deviation and distinct count, when computed right after the
    #: sort (``sorted_numbers(..., moments=True)``): the values are still in the cache then.
    moments: SortedMoments | None = None


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    # pandas.NA and NaT are singletons whose class names say what they are; importing
    # pandas just to recognise them would make it a hard dependency.
    return type(value).__name__ in ("NAType", "NaTType")


_NUMPY_TYPES: dict[pa.DataType, type[np.generic]] = {
    pa.float64(): np.float64,
    pa.float32(): np.float32,
    pa.int64(): np.int64,
    pa.int32(): np.int32,
    pa.int16(): np.int16,
    pa.int8(): np.int8,
    pa.uint64(): np.uint64,
    pa.uint32(): np.uint32,
    pa.uint16(): np.uint16,
    pa.uint8(): np.uint8,
}


def arrow_numbers(values: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """A numeric Arrow column as numpy, as ``to_numpy(zero_copy_only=False)`` gives it.

    Read from the data buffers: zero-copy for one chunk without nulls (nulls become NaN, and
    integers with nulls float64, as pyarrow does), and without pyarrow's conversion layer,
    which imports pandas (a second of start-up) just to look at it. ``None`` for other types.

    >>> arrow_numbers(pa.chunked_array([[1, None], [3]])).tolist()
    [1.0, nan, 3.0]
    >>> arrow_numbers(pa.array(["a"])) is None
    True
    """
    if values.type not in _NUMPY_TYPES:
        return None
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    parts = []
    for chunk in chunks:
        if chunk.null_count:
            floats = chunk if pa.types.is_floating(chunk.type) else chunk.cast(pa.float64())
            chunk = pc.fill_null(floats, pa.scalar(np.nan, type=floats.type))
        dtype = np.dtype(_NUMPY_TYPES[chunk.type])
        data = chunk.buffers()[1]
        if data is None or len(chunk) == 0:
            parts.append(np.empty(0, dtype=dtype))
            continue
        parts.append(
            np.frombuffer(data, dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)
        )
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.empty(0, dtype=np.dtype(_NUMPY_TYPES[values.type]))
    return np.concatenate(parts)  # int chunks with and without nulls: float64, as pyarrow


def as_1d(values: object, what: str) -> np.ndarray:
    """``values`` as a 1-D numpy array, or an :class:`InputError` naming ``what``.

    Arrow arrays are converted here, one column at a time where the work is done, so that a
    caller holding a whole table never needs every column as numpy at once: nulls of a float
    column become NaN, of other types ``None``.
    """
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        numbers = arrow_numbers(values)
        values = values.to_numpy(zero_copy_only=False) if numbers is None else numbers
    array = np.asarray(values)
    if not isinstance(values, np.ndarray) and array.ndim == 1 and array.dtype.kind in "US":
        # A Python list with a string in it: numpy would turn every element (NaN, numbers)
        # into text; keep the elements as they are so they can be classified and counted.
        array = np.empty(len(array), dtype=object)
        array[:] = list(values)  # type: ignore[call-overload]
    if array.ndim == 0:
        raise InputError(f"{what} must be a 1-D array of values, got a scalar {array!r}")
    if array.ndim != 1:
        raise InputError(f"{what} must be 1-D, got an array of shape {array.shape}")
    return array


def numeric_values(values: object, what: str) -> tuple[FloatArray, NumericCounts]:
    """The finite float64 values of ``values`` (input order kept) and counts of the rest.

    Booleans and integers are numbers; in object arrays ``None`` is missing and anything that
    is not an ``int``/``float`` (e.g. a string) is counted as a wrong-type value.
    Datetimes, strings, complex numbers and other dtypes raise :class:`InputError`.

    >>> values, counts = numeric_values([1.0, float("nan"), float("inf"), None, "x"], "x")
    >>> values.tolist(), counts.nan, counts.pos_inf, counts.missing, counts.wrong_type
    ([1.0], 1, 1, 1, 1)
    """
    if isinstance(values, CategoryCounts):
        raise InputError(f"{what} holds category counts, not numbers; pass the numeric values")
    if isinstance(values, SortedNumbers):
        return values.values, values.counts
    array = as_1d(values, what)
    if array.dtype.kind in _NUMERIC_DTYPE_KINDS:
        floats = array.astype(np.float64, copy=False)
        finite = np.isfinite(floats)
        if finite.all():
            return floats, NumericCounts(total=floats.size)
        nan = int(np.isnan(floats).sum())
        pos_inf = int(np.isposinf(floats).sum())
        return floats[finite], NumericCounts(
            total=floats.size,
            nan=nan,
            pos_inf=pos_inf,
            neg_inf=int(floats.size - finite.sum()) - nan - pos_inf,
        )
    if array.dtype.kind == "O":
        return _numeric_from_objects(array)
    raise InputError(
        f"{what} has dtype {array.dtype}, which is not numeric; pass numbers (int/float/bool) "
        "or declare the column categorical"
    )


def sorted_numbers(
    values: object, what: str, *, buffer: FloatArray | None = None, moments: bool = False
) -> SortedNumbers:
    """The sorted finite values of a numeric column and the counts of the rest.

    A float64 column (Arrow chunks without nulls, or a numpy array) is copied straight into
    the buffer it is sorted in (no intermediate concatenation) and sorted before it is checked:
    NaN sort last and infinities to the ends, so two comparisons replace a pass over the
    values; nulls count as NaN, as :func:`arrow_numbers` reads them. ``buffer``: storage to
    sort in when it is large enough (the caller must not use it while the result is in use).
    ``moments``: also compute the values' :func:`~keeneye.stats._robust.sorted_moments` while
    they are still in the cache (about half the cost of reading them back later).

    >>> s = sorted_numbers(pa.chunked_array([[3.0, None], [1.0, float("inf")]]), "x")
    >>> s.values.tolist(), s.counts.nan, s.counts.pos_inf
    ([1.0, 3.0], 1, 1)
    >>> sorted_numbers(np.array([2.0, -1.0, 0.5]), "x").values.tolist()
    [-1.0, 0.5, 2.0]
    """
    if isinstance(values, SortedNumbers):
        return values
    ordered = _sorted_numbers(values, what, buffer)
    if moments and ordered.values.size:
        return replace(ordered, moments=sorted_moments(ordered.values))
    return ordered


def _sorted_numbers(values: object, what: str, buffer: FloatArray | None) -> SortedNumbers:
    parts = _float_parts(values)
    if parts is not None:
        if buffer is not None and any(np.may_share_memory(p, buffer) for p in parts):
            buffer = None  # the values live in the buffer itself: sort a copy
        n = sum(p.size for p in parts)
        padded = padded_buffer(n, buffer)
        start = 0
        for part in parts:
            padded[start : start + part.size] = part
            start += part.size
        view = padded[:n]
        view.sort()
        if n == 0 or (view[0] > -np.inf and view[-1] < np.inf):
            padded[n] = np.inf
            return SortedNumbers(view, NumericCounts(total=n))
        values = view  # rare: non-finite values are counted and dropped below
        buffer = None
    kept, counts = numeric_values(values, what)
    if buffer is not None and np.shares_memory(kept, buffer):
        buffer = None  # the values were read from the buffer itself: sort a copy
    return SortedNumbers(sort_with_sentinel(kept, buffer), counts)


def _float_parts(values: object) -> list[FloatArray] | None:
    """The float64 values of an Arrow column without nulls (one array per chunk, read from its
    data buffer) or of a 1-D numpy float64 array; ``None`` for anything else."""
    if isinstance(values, np.ndarray):
        return [values] if values.dtype == np.float64 and values.ndim == 1 else None
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        return None
    if values.type != pa.float64() or values.null_count:
        return None
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    parts = []
    for chunk in chunks:
        data = chunk.buffers()[1]
        if len(chunk) and data is not None:
            parts.append(
                np.frombuffer(data, dtype=np.float64, count=len(chunk), offset=chunk.offset * 8)
            )
    return parts


def _numeric_from_objects(array: np.ndarray) -> tuple[FloatArray, NumericCounts]:
    kept: list[float] = []
    missing = nan = pos_inf = neg_inf = wrong = 0
    example: str | None = None
    for value in array.tolist():
        if isinstance(value, (bool, int, float, np.integer, np.floating, np.bool_)):
            number = float(value)
            if math.isfinite(number):
                kept.append(number)
            elif math.isnan(number):
                nan += 1
            elif number > 0:
                pos_inf += 1
            else:
                neg_inf += 1
        elif _is_missing(value):
            missing += 1
        else:
            wrong += 1
            if example is None:
                example = repr(value)
    counts = NumericCounts(
        total=array.size,
        missing=missing,
        nan=nan,
        pos_inf=pos_inf,
        neg_inf=neg_inf,
        wrong_type=wrong,
        wrong_type_example=example,
    )
    return np.asarray(kept, dtype=np.float64), counts


@dataclass(frozen=True)
class CategoryCounts:
    """Counts of each category label, plus missing values and labels of a foreign type."""

    total: int
    counts: dict[Any, int]
    missing: int
    types: dict[str, int]  # type name -> number of values, over non-missing values

    @property
    def present(self) -> int:
        return self.total - self.missing

    @property
    def mixed_types(self) -> bool:
        return len(self.types) > 1


#: A column as the engine and the summaries take it: numpy/list values, an Arrow array (read
#: without making Python objects) or what was already computed from one: category counts
#: (categorical columns) or the sorted finite values (numeric columns).
ColumnValues: TypeAlias = ArrayLike | pa.Array | pa.ChunkedArray | CategoryCounts | SortedNumbers


def _type_name(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def column_size(values: object) -> int:
    """Number of rows of a column given as numpy/list, Arrow array or :class:`CategoryCounts`.

    ``np.size`` would turn an Arrow column into a numpy array (Python objects for strings).

    >>> column_size(pa.chunked_array([["a", None]])), column_size([1.0, 2.0, 3.0])
    (2, 3)
    """
    if isinstance(values, CategoryCounts):
        return values.total
    if isinstance(values, SortedNumbers):
        return values.counts.total
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return len(values)
    return int(np.size(values))  # type: ignore[arg-type]


def category_counts(values: object, what: str) -> CategoryCounts:
    """Count category labels; ``None``, pandas NA and float NaN are missing.

    ``values`` may be a numpy array or list, a pyarrow ``Array``/``ChunkedArray`` (counted by
    Arrow's hash kernel: no Python object per row) or an already computed
    :class:`CategoryCounts`, returned as it is so that one count can serve several callers.
    numpy inputs are counted with a hash table (``collections.Counter``) rather than by
    sorting object arrays, which is several times faster on string columns.

    >>> c = category_counts(["a", "b", "a", None, float("nan")], "x")
    >>> sorted(c.counts.items()), c.missing, c.types
    ([('a', 2), ('b', 1)], 2, {'str': 3})
    >>> category_counts(pa.array(["a", "b", "a", None]), "x").counts
    {'a': 2, 'b': 1}
    """
    if isinstance(values, CategoryCounts):
        return values
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return _arrow_category_counts(values, what)
    array = as_1d(values, what)
    if array.dtype.kind not in ("U", "S", "b", "i", "u", "O", "f"):
        raise InputError(
            f"{what} has dtype {array.dtype}, which cannot be used as categories; "
            "pass strings, booleans or integers"
        )
    return _tally(Counter(array.tolist()).items(), array.size)


def _arrow_category_counts(values: pa.Array | pa.ChunkedArray, what: str) -> CategoryCounts:
    dtype = values.type
    encoded = pa.types.is_dictionary(dtype)
    if encoded:
        # Counted on the dictionary indices (integers), not on decoded values; a dictionary
        # with repeated entries is fine (_tally adds up equal labels).
        dtype = dtype.value_type
        if isinstance(values, pa.ChunkedArray) and values.num_chunks > 1:
            values = values.unify_dictionaries()
    if not (
        pa.types.is_string(dtype)
        or pa.types.is_large_string(dtype)
        or pa.types.is_boolean(dtype)
        or pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_null(dtype)
    ):
        raise InputError(
            f"{what} has Arrow type {dtype}, which cannot be used as categories; "
            "pass strings, booleans or integers"
        )
    if pa.types.is_null(dtype):
        return _tally([(None, len(values))] if len(values) else [], len(values))
    # One entry per distinct value (nulls included, as None), in order of first appearance,
    # exactly as Counter would list them.
    return counts_from_value_counts(pc.value_counts(values), len(values))


def counts_from_value_counts(counted: pa.StructArray, total: int) -> CategoryCounts:
    """:class:`CategoryCounts` of a column from its Arrow ``value_counts`` (``total`` rows).

    >>> counts_from_value_counts(pc.value_counts(pa.array(["a", None, "a"])), 3).counts
    {'a': 2}
    """
    labels = counted.field("values").to_pylist()
    frequencies = counted.field("counts").to_pylist()
    return _tally(zip(labels, frequencies, strict=True), total)


def _tally(raw: Iterable[tuple[Any, int]], total: int) -> CategoryCounts:
    counts: dict[Any, int] = {}
    types: dict[str, int] = {}
    missing = 0
    for label, count in raw:
        if _is_missing(label) or (isinstance(label, float) and math.isnan(label)):
            missing += count
            continue
        if isinstance(label, np.generic):
            label = label.item()
        counts[label] = counts.get(label, 0) + count
        name = _type_name(label)
        types[name] = types.get(name, 0) + count
    return CategoryCounts(total=total, counts=counts, missing=missing, types=types)


def dropped_details(reference: NumericCounts, current: NumericCounts) -> dict[str, object]:
    """``details`` entries naming the non-finite values dropped from each side (if any)."""
    details: dict[str, object] = {}
    if reference.dropped:
        details["dropped_reference"] = reference.to_dict()
    if current.dropped:
        details["dropped_current"] = current.to_dict()
    return details
