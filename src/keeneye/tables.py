"""Turn the tables users hand to keeneye into Arrow, and decide what kind each column is.

Accepted inputs: pandas and polars DataFrames, pyarrow Tables and RecordBatches, dicts of
equal-length arrays or lists, and paths (``str`` or :class:`pathlib.Path`) to ``.parquet``,
``.pq``, ``.csv`` or ``.csv.gz`` files. pandas and polars are optional: they are never imported
here, an object is recognised as their DataFrame only when the user already imported them.

>>> import pyarrow as pa
>>> loaded = load_table({"age": [31, 42, None], "city": ["Oslo", "Rome", "Oslo"]}, role="reference")
>>> loaded.table.schema.types
[DataType(int64), DataType(string)]
>>> infer_kind(loaded.table.column("age")).kind
<FeatureKind.NUMERIC: 'numeric'>
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from keeneye.errors import DataSourceError, InputError
from keeneye.kinds import KINDS, kind_of_family, untested_reason
from keeneye.schema import FeatureKind

ACCEPTED_INPUTS = (
    "a pandas or polars DataFrame, a pyarrow Table or RecordBatch, a dict of equal-length "
    "arrays or lists, or a path to a .parquet, .pq, .csv or .csv.gz file"
)

#: File suffixes keeneye reads, and the reader for each.
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".csv.gz")

#: A string column is free text (not tested) when it has more than this many distinct values …
TEXT_MIN_DISTINCT = 50
#: … and more than this share of its non-missing values are distinct,
TEXT_DISTINCT_SHARE = 0.5
#: or when its values are longer than this on average (characters).
TEXT_MEAN_LENGTH = 64

# Strings that parse as numbers: used to spot numeric columns polluted by a few stray strings
# (a CSV column with one 'cat' in it is read as strings as a whole). RE2 syntax, for Arrow.
_NUMBER_PATTERN = r"(?i)^\s*[-+]?((\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?|inf|infinity|nan)\s*$"


@dataclass(frozen=True)
class LoadedTable:
    """One input turned into Arrow.

    ``table`` holds every column that became a single Arrow column; ``unconvertible`` names the
    columns that could not (Python objects of mixed types) with the reason, and keeps their
    values as an object array in ``raw`` so that they can still be summarised.
    """

    role: str
    source: str
    table: pa.Table
    columns: tuple[str, ...]
    unconvertible: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        """Rows in the input."""
        if self.table.num_columns or not self.raw:
            return int(self.table.num_rows)
        return len(next(iter(self.raw.values())))


def describe_source(source: object) -> str:
    """A short name for an input, used in messages (the path, or the object's type)."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    kind = type(source)
    module = kind.__module__.split(".")[0]
    return f"{module}.{kind.__name__}" if module != "builtins" else kind.__name__


def load_table(source: object, *, role: str = "data") -> LoadedTable:
    """Read ``source`` into Arrow without copying more than the conversion needs.

    ``role`` ("reference", "current") only appears in error messages.

    Raises
    ------
    DataSourceError
        The object is of a type keeneye does not read, the file does not exist or cannot be
        parsed, or the columns are unusable as a table (unequal lengths, duplicate names).
    """
    name = describe_source(source)
    if isinstance(source, (str, os.PathLike)):
        return _from_arrow(_read_path(Path(os.fspath(source)), role), role, name)
    if isinstance(source, pa.Table):
        return _from_arrow(source, role, name)
    if isinstance(source, pa.RecordBatch):
        return _from_arrow(pa.Table.from_batches([source]), role, name)
    if _is_instance_of(source, "pandas", "DataFrame"):
        return _from_pandas(source, role, name)
    if _is_instance_of(source, "polars", "DataFrame"):
        return _from_polars(source, role, name)
    if isinstance(source, Mapping):
        return _from_mapping(source, role, name)
    raise DataSourceError(f"cannot read the {role} data from a {name}: pass {ACCEPTED_INPUTS}")


def _is_instance_of(obj: object, module: str, cls: str) -> bool:
    # Only a module the user already imported can have made ``obj``: never import it here.
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(obj, getattr(loaded, cls))


def _read_path(path: Path, role: str) -> pa.Table:
    name = path.name.lower()
    if not path.exists():
        raise DataSourceError(f"{role} file {str(path)!r} does not exist")
    if path.is_dir():
        raise DataSourceError(f"{role} path {str(path)!r} is a directory: pass a file")
    try:
        if name.endswith(_PARQUET_SUFFIXES):
            import pyarrow.parquet as pq

            return pq.read_table(path)
        if name.endswith(_CSV_SUFFIXES):
            import pyarrow.csv as pcsv

            # Empty cells are missing values, as pandas reads them, not empty strings.
            options = pcsv.ConvertOptions(strings_can_be_null=True)
            return pcsv.read_csv(path, convert_options=options)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        fmt = "Parquet" if name.endswith(_PARQUET_SUFFIXES) else "CSV"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataSourceError(f"cannot read {role} file {str(path)!r} as {fmt}: {detail}") from exc
    raise DataSourceError(
        f"cannot read {role} file {str(path)!r}: unknown file type; "
        f"keeneye reads {', '.join(_PARQUET_SUFFIXES + _CSV_SUFFIXES)} files"
    )


def _from_arrow(table: pa.Table, role: str, name: str) -> LoadedTable:
    _check_unique(table.column_names, role, name)
    return LoadedTable(role=role, source=name, table=table, columns=tuple(table.column_names))


def _check_unique(names: list[str], role: str, source: str) -> None:
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataSourceError(
            f"{role} data ({source}) has duplicate column names {duplicated}: rename them"
        )


def _from_pandas(df: Any, role: str, name: str) -> LoadedTable:
    names = [str(c) for c in df.columns]
    _check_unique(names, role, name)
    try:
        # Whole-frame conversion is zero-copy for numeric columns; fall back per column only
        # when a column refuses (mixed Python objects).
        table = _pandas_table(df, names)
        return LoadedTable(role=role, source=name, table=table, columns=tuple(names))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    columns = {n: df.iloc[:, i] for i, n in enumerate(names)}
    return _from_columns(columns, role, name, from_pandas=True)


def _pandas_table(df: Any, names: list[str]) -> pa.Table:
    """``pa.Table.from_pandas(df)`` (NaN in float columns become nulls, as pandas means them),
    with the float columns that hold no NaN taken as they are, without a copy.

    ``from_pandas`` tests every float for NaN to build a validity bitmap (about 3 ms per
    million values); one sum, which is NaN only if a value is NaN (or an infinity of either
    sign is present), rules NaN out for a tenth of that.
    """
    floats = {
        index: df.iloc[:, index].to_numpy()
        for index, dtype in enumerate(df.dtypes)
        if isinstance(dtype, np.dtype) and dtype.kind == "f"
    }
    plain: dict[int, pa.Array | pa.ChunkedArray] = {}
    for index, clean in zip(floats, _without_nan(list(floats.values())), strict=True):
        if clean:
            plain[index] = pa.array(floats[index])
    if not plain:
        table = pa.Table.from_pandas(df, preserve_index=False)
        return table.rename_columns(names).replace_schema_metadata(None)
    rest = [i for i in range(len(names)) if i not in plain]
    if rest:
        converted = pa.Table.from_pandas(df.iloc[:, rest], preserve_index=False)
        plain.update(zip(rest, converted.columns, strict=True))
    return pa.table([plain[i] for i in range(len(names))], names=names)


def _without_nan(arrays: list[np.ndarray]) -> list[bool]:
    """Whether each float array certainly holds no NaN (its sum is finite), the arrays summed
    on a few threads when they are large (numpy's sum releases the GIL)."""

    def clean(values: np.ndarray) -> bool:
        with np.errstate(all="ignore"):
            return bool(np.isfinite(values.sum()))

    total = sum(a.size for a in arrays)
    if total < 1_000_000 or len(arrays) < 2:
        return [clean(a) for a in arrays]
    from keeneye.stats._parallel import map_columns  # the engine's threads, for large frames

    return map_columns(clean, arrays, total)


def _from_polars(df: Any, role: str, name: str) -> LoadedTable:
    try:
        return _from_arrow(df.to_arrow(), role, name)
    except Exception:  # polars raises its own types (e.g. for Object columns)
        columns = {str(n): df.get_column(n) for n in df.columns}
    converted: dict[str, Any] = {}
    for column, series in columns.items():
        try:
            converted[column] = series.to_arrow()
        except Exception:  # polars Object columns: fall back to Python values
            converted[column] = series.to_list()
    return _from_columns(converted, role, name, from_pandas=False)


def _from_mapping(data: Mapping[Any, Any], role: str, name: str) -> LoadedTable:
    columns = {str(k): v for k, v in data.items()}
    if len(columns) != len(data):
        raise DataSourceError(f"{role} data ({name}) has keys that collide as strings")
    return _from_columns(columns, role, name, from_pandas=False)


def _from_columns(
    columns: Mapping[str, Any], role: str, name: str, *, from_pandas: bool
) -> LoadedTable:
    lengths = {c: _length(v, role, c) for c, v in columns.items()}
    if len(set(lengths.values())) > 1:
        raise DataSourceError(
            f"{role} data ({name}): columns have different lengths {lengths}; "
            "every column needs one value per row"
        )
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
    unconvertible: dict[str, str] = {}
    raw: dict[str, np.ndarray] = {}
    for column, values in columns.items():
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            arrays[column] = values
            continue
        if isinstance(values, np.ndarray) and values.ndim != 1:
            raise DataSourceError(
                f"{role} column {column!r} has shape {values.shape}: pass one value per row "
                "(a 1-D array)"
            )
        try:
            arrays[column] = pa.array(values, from_pandas=from_pandas)
        except (
            pa.ArrowInvalid,
            pa.ArrowTypeError,
            pa.ArrowNotImplementedError,
            OverflowError,  # Python ints beyond 64 bits
        ) as exc:
            objects = np.empty(len(values), dtype=object)
            objects[:] = list(values)
            unconvertible[column] = describe_mixed_types(objects, exc)
            raw[column] = objects
    table = pa.table(arrays) if arrays else pa.table({})
    return LoadedTable(
        role=role,
        source=name,
        table=table,
        columns=tuple(columns),
        unconvertible=unconvertible,
        raw=raw,
    )


def _length(values: Any, role: str, column: str) -> int:
    try:
        return len(values)
    except TypeError as exc:
        raise DataSourceError(
            f"{role} column {column!r} is a {type(values).__name__}, not a sequence of values: "
            "pass arrays or lists"
        ) from exc


def describe_mixed_types(values: np.ndarray, error: Exception | None = None) -> str:
    """Say which Python types a column mixes, most common first, with an example of the rarest.

    A column of a single type that Arrow still refused is described by Arrow's ``error``.

    >>> describe_mixed_types(np.array([1, 2, "cat", None], dtype=object))
    "mixed types: 2 int, 1 str (e.g. 'cat')"
    >>> describe_mixed_types(np.array([2**70], dtype=object), OverflowError("too large"))
    'values cannot be stored as one column (int): too large'
    """
    counts: Counter[str] = Counter()
    example: dict[str, object] = {}
    for value in values:
        if value is None or (isinstance(value, float) and value != value):
            continue  # missing values (None / NaN) do not make a type
        type_name = type(value).__name__
        counts[type_name] += 1
        example.setdefault(type_name, value)
    ranked = counts.most_common()
    parts = ", ".join(f"{n} {t}" for t, n in ranked)
    if len(ranked) < 2:
        detail = str(error).strip().splitlines()[0] if error is not None else "unknown reason"
        type_name = ranked[0][0] if ranked else "no values"
        return f"values cannot be stored as one column ({type_name}): {detail}"
    rarest = ranked[-1][0]
    return f"mixed types: {parts} (e.g. {example[rarest]!r})"


# --------------------------------------------------------------------------- kinds


@dataclass(frozen=True)
class KindGuess:
    """The kind keeneye gives a column and, when it cannot be tested, why.

    ``kind`` is ``None`` for Arrow types keeneye has no kind for (lists, structs, binary …).
    """

    kind: FeatureKind | None
    untested: str | None = None
    #: For a string column: its ``value_counts`` as strings, which counting its categories
    #: reuses instead of hashing the column again.
    value_counts: pa.StructArray | None = field(default=None, compare=False, repr=False)


def type_family(dtype: pa.DataType) -> str:
    """The coarse type family of an Arrow type: what matters for comparing two sides."""
    if pa.types.is_dictionary(dtype):
        return type_family(dtype.value_type)
    if pa.types.is_null(dtype):
        return "null"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "numeric"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or _is_string_view(dtype):
        return "string"
    if (
        pa.types.is_timestamp(dtype)
        or pa.types.is_date(dtype)
        or pa.types.is_time(dtype)
        or pa.types.is_duration(dtype)
    ):
        return "datetime"
    return "other"


def _is_string_view(dtype: pa.DataType) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check(dtype)) if check is not None else False


def _as_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    return column


@dataclass(frozen=True)
class _StringStats:
    """What kind inference needs of a string column, from one hash pass (``value_counts``)."""

    counts: pa.StructArray  # the pass itself, nulls included
    valid: int  # non-missing values
    distinct: int
    non_numbers: int  # values that do not parse as numbers
    example: str | None  # one of them
    mean_length: float | None


def _string_stats(column: pa.ChunkedArray) -> _StringStats:
    # Large strings (pandas' Arrow-backed strings) are counted as they are: only the distinct
    # values need to be strings, not a cast copy of the whole column.
    plain = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    counted = pc.value_counts(column if plain else _as_strings(column))
    if pa.types.is_large_string(column.type):
        counted = pa.StructArray.from_arrays(
            [counted.field("values").cast(pa.string()), counted.field("counts")],
            names=["values", "counts"],
        )
    values, frequency = counted.field("values"), counted.field("counts")
    valid = pc.is_valid(values)
    values, frequency = pc.filter(values, valid), pc.filter(frequency, valid)
    total = int(pc.sum(frequency).as_py() or 0)
    bad = pc.invert(pc.match_substring_regex(values, _NUMBER_PATTERN))
    bad_values = pc.filter(values, bad)
    length = pc.sum(pc.multiply(pc.utf8_length(values), frequency)).as_py()
    return _StringStats(
        counts=counted,
        valid=total,
        distinct=len(values),
        non_numbers=int(pc.sum(pc.filter(frequency, bad)).as_py() or 0),
        example=bad_values[0].as_py() if len(bad_values) else None,
        mean_length=length / total if total else None,
    )


def non_numbers(column: pa.ChunkedArray) -> tuple[int, int, str | None]:
    """For a string column: (values that are not numbers, non-missing values, an example).

    >>> non_numbers(pa.chunked_array([["1", "2.5", "cat", None]]))
    (1, 3, 'cat')
    """
    stats = _string_stats(column)
    return stats.non_numbers, stats.valid, stats.example


def _string_kind(column: pa.ChunkedArray) -> KindGuess:
    stats = _string_stats(column)
    n_bad, total = stats.non_numbers, stats.valid
    if total and 0 < n_bad <= total / 2:
        return KindGuess(
            None,
            f"mixed types: {total - n_bad} of {total} values are numbers but {n_bad} are not "
            f"(e.g. {stats.example!r}); fix the data, or set its kind to 'categorical' to test "
            "the values as categories",
        )
    if stats.distinct > TEXT_MIN_DISTINCT and stats.distinct > TEXT_DISTINCT_SHARE * total:
        return KindGuess(
            FeatureKind.TEXT,
            f"free text or identifiers ({stats.distinct} distinct values in {total} rows); "
            "set its kind to 'categorical' to test it anyway",
        )
    if stats.mean_length is not None and stats.mean_length > TEXT_MEAN_LENGTH:
        return KindGuess(
            FeatureKind.TEXT,
            f"free text (values are {stats.mean_length:.0f} characters long on average); "
            "set its kind to 'categorical' to test it anyway",
        )
    return KindGuess(FeatureKind.CATEGORICAL, value_counts=stats.counts)


def infer_kind(column: pa.ChunkedArray | pa.Array) -> KindGuess:
    """Decide how keeneye treats a column from its Arrow type and, for strings, its values.

    Rules: integers, floats and decimals are numeric (booleans are not); booleans are boolean;
    dictionary-encoded integers (pandas ``category``) are categorical; strings are categorical
    unless they look like free text or identifiers (more than
    ``TEXT_MIN_DISTINCT`` distinct values making up more than ``TEXT_DISTINCT_SHARE`` of the
    rows, or a mean length above ``TEXT_MEAN_LENGTH``), or are mostly numbers with a few
    strays (mixed types); dates and times are datetime; everything else is not tested. Which
    type family is which kind is the kinds table's (:func:`keeneye.kinds.kind_of_family`).

    >>> infer_kind(pa.array([True, False])).kind
    <FeatureKind.BOOLEAN: 'boolean'>
    >>> infer_kind(pa.array(["a", "b", "a"])).kind
    <FeatureKind.CATEGORICAL: 'categorical'>
    >>> infer_kind(pa.array([[1.0, 2.0]])).untested
    'unsupported type list<item: double>'
    """
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    family = type_family(column.type)
    if pa.types.is_dictionary(column.type) and family in ("numeric", "boolean"):
        value_type = column.type.value_type
        if not (pa.types.is_floating(value_type) or pa.types.is_decimal(value_type)):
            # Dictionary-encoded integers are declared categories (pandas ``category`` of
            # codes, polars ``Enum``), not measurements.
            return KindGuess(FeatureKind.CATEGORICAL)
    if family == "null":
        return KindGuess(None, "every value is missing")
    kind = kind_of_family(family)  # the table of kinds (keeneye.kinds)
    if kind is None:
        return KindGuess(None, f"unsupported type {column.type}")
    if kind is FeatureKind.CATEGORICAL:
        return _string_kind(column)  # categorical, or free text, or mixed types
    if not KINDS[kind].testable:
        return KindGuess(
            kind, f"{kind.value} column ({column.type}): dates and times are not tested for drift"
        )
    return KindGuess(kind)


def parse_kind(column: str, kind: FeatureKind | str) -> FeatureKind:
    """Validate one entry of a ``kinds={column: kind}`` override.

    >>> parse_kind("zip", "categorical")
    <FeatureKind.CATEGORICAL: 'categorical'>
    """
    if isinstance(kind, FeatureKind):
        return kind
    try:
        return FeatureKind(str(kind).strip().lower())
    except ValueError:
        valid = ", ".join(k.value for k in FeatureKind)
        raise InputError(
            f"unknown kind {kind!r} for column {column!r}: use one of {valid}"
        ) from None


# --------------------------------------------------------------------------- to numpy


def as_kind(column: pa.ChunkedArray, kind: FeatureKind) -> pa.ChunkedArray | str:
    """Cast a column to the Arrow type that ``kind`` is tested on, or say why it cannot be.

    The target type and the type families a kind converts from are its entry in
    :data:`keeneye.kinds.KINDS`: numeric → float64, categorical → string, boolean → bool. A
    null-typed column (every value missing) casts to any of them.

    >>> as_kind(pa.chunked_array([[1, 2]]), FeatureKind.CATEGORICAL).to_pylist()
    ['1', '2']
    >>> as_kind(pa.chunked_array([["1", "cat"]]), FeatureKind.NUMERIC)
    "1 of 2 values are not numbers (e.g. 'cat')"
    """
    entry = KINDS[kind]  # the table of kinds: target type and the families it converts from
    target = entry.arrow_type
    if target is None or not entry.testable:
        return untested_reason(kind)
    family = type_family(column.type)
    if family not in entry.cast_from:
        return f"a {column.type} column cannot be tested as {kind.value}"
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_string(target):
        return _as_strings(column)
    if pa.types.is_floating(target) and family == "string":
        n_bad, total, example = non_numbers(column)
        if n_bad:
            return f"{n_bad} of {total} values are not numbers (e.g. {example!r})"
        return pc.cast(pc.utf8_trim_whitespace(column), target)
    try:
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if pa.types.is_boolean(target):
            return f"values of a {column.type} column are not all true/false (or 1/0)"
        raise


def to_numpy(column: pa.ChunkedArray) -> np.ndarray:
    """An Arrow column already cast by :func:`as_kind` as the numpy array the engine takes.

    float64 stays float64 (nulls become NaN); strings and booleans become object arrays with
    ``None`` for missing values.
    """
    if pa.types.is_floating(column.type):
        return np.asarray(column.to_numpy(), dtype=np.float64)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
