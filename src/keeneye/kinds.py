"""The table of feature kinds: for each :class:`~keeneye.schema.FeatureKind`, its Arrow type,
how a raw value is typed at ingest, how a column is converted, which summaries and which drift
methods apply, and why a column of the kind is left untested.

Ingest (:func:`keeneye.store._values.value_type`), kind inference from a baseline
(:func:`keeneye.tables.infer_kind`, :func:`keeneye.tables.as_kind`), the reference profile and
summaries (:mod:`keeneye.stats.profile`, :func:`keeneye.stats.summary.summarize`), the drift
methods (:mod:`keeneye.stats.methods`: a kind's methods are the entries of that table accepting
it) and the identifier detection of ``keeneye compare`` (:mod:`keeneye.identifiers`) read it.

>>> KINDS[FeatureKind.BOOLEAN].arrow_type, KINDS[FeatureKind.BOOLEAN].ingest
(DataType(bool), 'boolean')
>>> spec(FeatureKind.TEXT).testable, spec("numeric").drift
(False, 'numeric')
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import pyarrow as pa

from keeneye.errors import InputError
from keeneye.schema import FeatureKind

#: How the values of a kind are summarised and which family of drift functions applies.
Family = Literal["numeric", "categorical"]

#: The type families of :func:`keeneye.tables.type_family`.
TypeFamily = Literal["null", "boolean", "numeric", "string", "datetime", "other"]

# Fields of keeneye.stats.summary.ColumnSummary each family fills in.
_NUMERIC_SUMMARIES = (
    "count", "missing", "nan", "pos_inf", "neg_inf", "distinct", "min", "max", "mean", "std",
    "quantiles",
)  # fmt: skip
_CATEGORICAL_SUMMARIES = ("count", "missing", "wrong_type", "distinct", "top", "categories")


@dataclass(frozen=True)
class KindSpec:
    """One row of the table of feature kinds.

    ``arrow_type`` is the type a column of the kind is tested on (``None``: it is not
    converted). ``ingest`` is the stored type :func:`keeneye.store._values.value_type` gives a
    raw value of the kind, and ``python_types`` the exact Python types typed so (``None`` /
    empty: ingest never gives this kind; such values are kept as unsupported). ``families`` are
    the Arrow type families inferred as this kind, ``cast_from`` those a column can be converted
    from when the kind is set by hand. ``summary`` / ``drift`` name the family of summaries and
    of drift functions (``None``: none apply). ``untested`` is the reason a column of the kind
    is left untested. ``names`` / ``suffixes`` are the column names (exact, or after a
    ``_``, ``-``, ``.`` or space) that mark a column of the kind in ``keeneye compare``.
    """

    kind: FeatureKind
    description: str
    arrow_type: pa.DataType | None
    conversion: str
    ingest: str | None = None
    python_types: tuple[type, ...] = ()
    families: frozenset[str] = frozenset()
    cast_from: frozenset[str] = frozenset()
    summary: Family | None = None
    drift: Family | None = None
    untested: str | None = None
    implemented: bool = True
    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()

    @property
    def testable(self) -> bool:
        """Whether the univariate drift methods apply to columns of this kind."""
        return self.drift is not None

    @property
    def summaries(self) -> tuple[str, ...]:
        """The fields of :class:`~keeneye.stats.summary.ColumnSummary` a summary of this kind
        fills in."""
        if self.summary == "numeric":
            return _NUMERIC_SUMMARIES
        if self.summary == "categorical":
            return _CATEGORICAL_SUMMARIES
        return ()

    @property
    def methods(self) -> tuple[str, ...]:
        """The drift methods accepting this kind: the entries of
        :data:`keeneye.stats.methods.METHODS` that accept it, in that table's order."""
        # Imported here: the methods table reads this table to know its kinds.
        from keeneye.stats.methods import names_for

        return names_for(self.kind)


def _through_descriptors(kind: FeatureKind) -> str:
    return f"{kind.value} columns are tested through their descriptors (keeneye.profile.modal)"


_N, _C, _B = FeatureKind.NUMERIC, FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN
_T, _D, _I = FeatureKind.TEXT, FeatureKind.DATETIME, FeatureKind.IDENTIFIER

_ENTRIES = (
    KindSpec(
        _N,
        "measurements: integers, floats and decimals",
        pa.float64(),
        "cast to float64; numeric strings are parsed, booleans become 0/1",
        ingest="numeric",
        python_types=(float, int),
        families=frozenset({"numeric"}),
        cast_from=frozenset({"numeric", "boolean", "null", "string"}),
        summary="numeric",
        drift="numeric",
    ),
    KindSpec(
        _C,
        "labels: strings with few distinct values, dictionary-encoded integers",
        pa.string(),
        "cast to string (dictionaries decoded)",
        ingest="categorical",
        python_types=(str,),
        families=frozenset({"string"}),
        cast_from=frozenset({"numeric", "boolean", "string", "null", "datetime"}),
        summary="categorical",
        drift="categorical",
    ),
    KindSpec(
        _B,
        "true/false",
        pa.bool_(),
        "cast to bool; 1/0 and 'true'/'false' are accepted",
        ingest="boolean",
        python_types=(bool,),
        families=frozenset({"boolean"}),
        cast_from=frozenset({"boolean", "null", "numeric", "string"}),
        summary="categorical",
        drift="categorical",
    ),
    KindSpec(
        _T,
        "free text: strings of several words with many distinct or long values",
        None,
        "descriptors: length in characters and tokens, empty, non-ASCII share, OOV rate, "
        "top-k tokens",
        untested=_through_descriptors(_T),
    ),
    KindSpec(
        _D,
        "dates, times, time stamps and durations (`FeatureKind.TIMESTAMP` is this kind)",
        None,
        "not converted",
        families=frozenset({"datetime"}),
        untested="datetime columns are not tested for drift",
        names=frozenset({"timestamp", "ts", "time", "date", "datetime"}),
        suffixes=("at", "ts", "time", "timestamp", "date", "datetime"),
    ),
    KindSpec(
        FeatureKind.IMAGE,
        "images (encoded bytes)",
        None,
        "descriptors: width, height, aspect, channels, mode, brightness, contrast, sharpness, "
        "bytes, format",
        untested=_through_descriptors(FeatureKind.IMAGE),
    ),
    KindSpec(
        FeatureKind.EMBEDDING,
        "vectors of floats",
        None,
        "a bounded sample of vectors",
        untested=(
            "embedding columns are tested as a whole by MMD and a domain classifier, "
            "not by the univariate methods"
        ),
    ),
    KindSpec(
        _I,
        "row ids and keys",
        None,
        "not converted",
        untested="identifier columns (row ids, keys) are not tested for drift",
        names=frozenset({"id", "uuid", "guid", "key", "index", "rowid", "pk"}),
        suffixes=("id", "uuid", "guid", "key"),
    ),
)

#: Every feature kind's entry, keyed by the kind (read-only).
KINDS: Mapping[FeatureKind, KindSpec] = MappingProxyType({e.kind: e for e in _ENTRIES})


def spec(kind: FeatureKind | str) -> KindSpec:
    """The entry of ``kind`` (a :class:`FeatureKind` or its value).

    Raises
    ------
    InputError
        ``kind`` is not a feature kind.
    """
    try:
        return KINDS[FeatureKind(kind)]
    except ValueError:
        valid = ", ".join(k.value for k in FeatureKind)
        raise InputError(f"unknown feature kind {kind!r}: use one of {valid}") from None


def numeric(kind: FeatureKind | str | None) -> bool:
    """Whether values of ``kind`` are summarised as numbers (quantiles, a range, histograms);
    the others as categories. ``None`` (no kind known) is neither.

    >>> numeric(FeatureKind.NUMERIC), numeric("boolean"), numeric(None)
    (True, False, False)
    """
    return kind is not None and spec(kind).summary == "numeric"


def numeric_family(family: str) -> bool:
    """Whether columns of an Arrow type family (:func:`keeneye.tables.type_family`) are read
    as a numeric kind without a cast from text (``null``: no values, any kind).

    >>> numeric_family("numeric"), numeric_family("string"), numeric_family("null")
    (True, False, True)
    """
    return family == "null" or numeric(kind_of_family(family))


def untested_reason(kind: FeatureKind) -> str:
    """Why columns of ``kind`` are left untested (for testable kinds: that they are not)."""
    return KINDS[kind].untested or f"{kind.value} columns are not tested for drift"


def kind_of_family(family: str) -> FeatureKind | None:
    """The kind an Arrow type family is inferred as (strings: categorical, before the free
    text check), ``None`` for families no kind takes."""
    for entry in _ENTRIES:
        if family in entry.families:
            return entry.kind
    return None


def drift_kinds(family: Family) -> frozenset[FeatureKind]:
    """The kinds whose columns the drift functions of ``family`` test."""
    return frozenset(e.kind for e in _ENTRIES if e.drift == family)


def ingest_types() -> dict[type, str]:
    """Exact Python type → the stored type of a raw value of it, for every kind typed at
    ingest (``bool`` is its own kind, never a number)."""
    return {t: e.ingest for e in _ENTRIES if e.ingest is not None for t in e.python_types}


def ingest_type(kind: FeatureKind) -> str:
    """The stored type of raw values of ``kind``."""
    found = KINDS[kind].ingest
    if found is None:
        raise InputError(
            f"{kind.value} values are not typed at ingest; send numbers, strings or booleans"
        )
    return found


# --------------------------------------------------------------------------- descriptors

#: The kinds whose values are turned into descriptors (or, for embeddings, a vector sample).
MODAL_KINDS = frozenset({FeatureKind.TEXT, FeatureKind.IMAGE, FeatureKind.EMBEDDING})
#: Suffix of the hashed token counts a text feature sends.
SKETCH = "token_sketch"

#: Descriptor suffix → kind, per modality (what the reference fits and the analysis tests).
TEXT_DESCRIPTORS: Mapping[str, FeatureKind] = {
    "chars": FeatureKind.NUMERIC,
    "tokens": FeatureKind.NUMERIC,
    "empty": FeatureKind.BOOLEAN,
    "non_ascii": FeatureKind.NUMERIC,
    "oov": FeatureKind.NUMERIC,
    "top_tokens": FeatureKind.CATEGORICAL,
}
IMAGE_DESCRIPTORS: Mapping[str, FeatureKind] = {
    "width": FeatureKind.NUMERIC,
    "height": FeatureKind.NUMERIC,
    "aspect": FeatureKind.NUMERIC,
    "channels": FeatureKind.NUMERIC,
    "mode": FeatureKind.CATEGORICAL,
    "brightness": FeatureKind.NUMERIC,
    "contrast": FeatureKind.NUMERIC,
    "sharpness": FeatureKind.NUMERIC,
    "bytes": FeatureKind.NUMERIC,
    "format": FeatureKind.CATEGORICAL,
}


_SUFFIXES = frozenset({*TEXT_DESCRIPTORS, *IMAGE_DESCRIPTORS, SKETCH})

#: Prefix of an embedding as the SDK encodes it (little-endian float32, base64): here, not in
#: the SDK, so that recognising one does not import the SDK (httpx, prometheus_client).
EMBEDDING_PREFIX = "f32:"


def descriptor_name(feature: str, suffix: str) -> str:
    """The name a descriptor of ``feature`` travels and is tested under."""
    return f"{feature}.{suffix}"


def with_descriptors(schema: frozenset[str], names: Collection[str]) -> frozenset[str]:
    """``schema`` (a baseline's columns) plus those of ``names`` that are descriptors of one of
    its columns (``review.chars`` when ``review`` is a column).

    >>> sorted(with_descriptors(frozenset({"review"}), ["review.chars", "other.chars", "x"]))
    ['review', 'review.chars']
    """
    extra = {
        n
        for n in names
        if n not in schema and (parts := n.rpartition("."))[0] in schema and parts[2] in _SUFFIXES
    }
    return schema | extra if extra else schema


def markdown_table() -> str:
    """The kinds table as Markdown (docs/statistics.md holds a copy; a test compares)."""
    lines = [
        "| kind | what it is | Arrow type | ingest | conversion | summaries | drift methods |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in _ENTRIES:
        arrow = str(e.arrow_type) if e.arrow_type is not None else "–"
        ingest = e.ingest or "unsupported"
        summaries = ", ".join(e.summaries) or "–"
        methods = ", ".join(f"`{m}`" for m in e.methods) or f"none ({untested_reason(e.kind)})"
        lines.append(
            f"| `{e.kind.value}` | {e.description} | {arrow} | {ingest} | {e.conversion} "
            f"| {summaries} | {methods} |"
        )
    return "\n".join(lines)


__all__ = [
    "IMAGE_DESCRIPTORS",
    "KINDS",
    "MODAL_KINDS",
    "SKETCH",
    "TEXT_DESCRIPTORS",
    "KindSpec",
    "descriptor_name",
    "drift_kinds",
    "ingest_type",
    "ingest_types",
    "kind_of_family",
    "markdown_table",
    "numeric",
    "numeric_family",
    "spec",
    "untested_reason",
    "with_descriptors",
]
