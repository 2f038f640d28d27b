"""Text, image and embedding columns of a baseline and of a window: which columns they are,
what the :class:`~keeneye.profile.reference.Reference` keeps of them, and how a table holding
them (raw, or as the SDK's descriptors) becomes descriptor columns the drift engine tests.

* **text** — ``f.chars``, ``f.tokens``, ``f.non_ascii`` (numeric: KS), ``f.empty`` (boolean:
  chi-square), ``f.oov`` (share of a text's tokens outside the baseline's vocabulary: KS) and
  ``f.top_tokens`` (occurrences of the baseline's top-k tokens and ``(other)``: chi-square).
  The vocabulary is the token set of the baseline's even rows; the baseline's own ``f.oov`` is
  cross-fitted (even rows against the odd rows' vocabulary and back), so that a baseline row
  and a production row are measured against a vocabulary of the same size.
* **image** — the descriptors of :mod:`keeneye.sdk.descriptors`, each tested by its kind.
* **embedding** — a bounded seeded sample of the baseline's vectors, for the MMD and domain
  classifier tests of :mod:`keeneye.stats.embedding`.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from keeneye.errors import InputError
from keeneye.kinds import (
    EMBEDDING_PREFIX,
    IMAGE_DESCRIPTORS,
    MODAL_KINDS,
    SKETCH,
    TEXT_DESCRIPTORS,
    descriptor_name,
)
from keeneye.schema import FeatureKind
from keeneye.stats._clean import CategoryCounts
from keeneye.stats.text import (
    describe_text,
    oov_rate,
    parse_sketch,
    token_counts,
    token_hash,
    tokenize,
)
from keeneye.tables import KindGuess, infer_kind

#: Tokens of the baseline whose share ``f.top_tokens`` follows; the rest count as ``OTHER``.
TOP_K = 20
OTHER = "(other)"
#: Baseline vectors an embedding's reference keeps at most (a seeded sample).
EMBEDDING_SAMPLE = 1000
#: Suffix of an embedding's domain-classifier drift row (its MMD row is the feature's name).
CLASSIFIER = "classifier"
#: A string column is inferred as text when its values hold this many words on average.
TEXT_MIN_WORDS = 5.0


@dataclass(frozen=True)
class TextProfile:
    """What the reference keeps of a text column: the vocabulary (token hashes of the even
    baseline rows), the top tokens (hash → token) and the baseline's cross-fitted OOV rate."""

    feature: str
    vocabulary: frozenset[str]
    top: Mapping[str, str]
    oov_rate: float | None


@dataclass(frozen=True)
class ImageProfile:
    feature: str


@dataclass(frozen=True)
class EmbeddingProfile:
    """A seeded sample of at most :data:`EMBEDDING_SAMPLE` baseline vectors."""

    feature: str
    sample: NDArray[np.float64]


ModalProfile = TextProfile | ImageProfile | EmbeddingProfile


@dataclass(frozen=True)
class Expanded:
    """A table with its text/image columns replaced by descriptor columns (``kinds``), the
    token distributions (``counts``, tested as categories) and the embeddings' vectors."""

    table: pa.Table
    kinds: Mapping[str, FeatureKind] = field(default_factory=dict)
    counts: Mapping[str, CategoryCounts] = field(default_factory=dict)
    embeddings: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    oov: Mapping[str, float | None] = field(default_factory=dict)
    #: Why an embedding column could not be read (undecodable values, mixed lengths).
    problems: Mapping[str, str] = field(default_factory=dict)


def descriptor_kinds(profile: ModalProfile) -> dict[str, FeatureKind]:
    """The descriptor columns a profile's feature is tested through, and their kinds."""
    table = {TextProfile: TEXT_DESCRIPTORS, ImageProfile: IMAGE_DESCRIPTORS}.get(type(profile))
    if table is None:
        return {}
    return {descriptor_name(profile.feature, s): k for s, k in table.items()}


def detect(
    table: pa.Table,
    overrides: Mapping[str, FeatureKind],
    skip: Sequence[str] = (),
    *,
    guesses: Mapping[str, KindGuess] | None = None,
) -> tuple[dict[str, FeatureKind], dict[str, str]]:
    """The text, image and embedding columns of ``table`` — declared in ``overrides``, or
    inferred: binary columns are images, lists of numbers embeddings, and strings of several
    words that :func:`keeneye.tables.infer_kind` calls free text are text — and, for declared
    columns whose type cannot hold the kind, why not. ``guesses``: the columns'
    :func:`~keeneye.tables.infer_kind` where already made (a string column's costs a hash
    pass)."""
    found: dict[str, FeatureKind] = {}
    problems: dict[str, str] = {}
    for name in table.column_names:
        if name in skip:
            continue
        column = table.column(name)
        declared = overrides.get(name)
        source, _, suffix = name.rpartition(".")
        if suffix == SKETCH and source and source not in table.column_names:
            # The SDK's descriptors of a text (a rolling reference from production data).
            found[source] = FeatureKind.TEXT
        elif declared is None:
            kind = _inferred(column, (guesses or {}).get(name))
            if kind is not None:
                found[name] = kind
        elif declared in MODAL_KINDS:
            if _fits(column.type, declared):
                found[name] = declared
            else:
                problems[name] = (
                    f"{column.type} values where {declared.value} was declared "
                    f"({declared.value} columns take {_TAKES[declared]})"
                )
    return found, problems


_TAKES = {
    FeatureKind.TEXT: "strings",
    FeatureKind.IMAGE: "encoded image bytes",
    FeatureKind.EMBEDDING: "lists of numbers (or the SDK's encoded vectors)",
}


def _fits(t: pa.DataType, kind: FeatureKind) -> bool:
    text = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)
    if kind is FeatureKind.TEXT:
        return text
    if kind is FeatureKind.IMAGE:
        return text or pa.types.is_binary(t) or pa.types.is_large_binary(t)
    lists = pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    return text or lists


def _inferred(column: pa.ChunkedArray, guess: KindGuess | None = None) -> FeatureKind | None:
    t = column.type
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return FeatureKind.IMAGE
    if (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)) and (
        pa.types.is_floating(t.value_type) or pa.types.is_integer(t.value_type)
    ):
        return FeatureKind.EMBEDDING
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        first = next((v for v in column.drop_null().slice(0, 1).to_pylist()), None)
        if isinstance(first, str) and first.startswith(EMBEDDING_PREFIX):
            return FeatureKind.EMBEDDING  # vectors as the SDK sends them
        if (guess or infer_kind(column)).kind is not FeatureKind.TEXT:
            return None
        words = pc.mean(pc.list_value_length(pc.utf8_split_whitespace(column))).as_py()
        if words is not None and words >= TEXT_MIN_WORDS:
            return FeatureKind.TEXT
    return None


# --------------------------------------------------------------------------- fitting


def fit(table: pa.Table, kinds: Mapping[str, FeatureKind]) -> tuple[list[ModalProfile], Expanded]:
    """Profiles of the ``kinds`` columns of a baseline and the baseline with them expanded."""
    profiles: list[ModalProfile] = []
    out = _Builder(table, list(kinds))
    for name, kind in kinds.items():
        if name not in table.column_names:  # a text known by its token sketches
            profiles.append(_fit_sketches(name, table, out))
            continue
        values = table.column(name).to_pylist()
        if kind is FeatureKind.TEXT:
            profiles.append(_fit_text(name, values, out))
        elif kind is FeatureKind.IMAGE:
            profiles.append(ImageProfile(name))
            _image_columns(name, values, out)
        else:
            matrix = _embedding_matrix(name, values)
            rng = np.random.default_rng(0)
            if len(matrix) > EMBEDDING_SAMPLE:
                matrix = matrix[np.sort(rng.choice(len(matrix), EMBEDDING_SAMPLE, replace=False))]
            profiles.append(EmbeddingProfile(name, matrix))
    return profiles, out.done()


def _fit_sketches(name: str, table: pa.Table, out: _Builder) -> TextProfile:
    """A text profile from the SDK's token sketches: the top tokens are known by their hashes
    only (the text never left the model's process)."""
    sketch = descriptor_name(name, SKETCH)
    hashed = [
        None if v is None else Counter(parse_sketch(str(v)))
        for v in table.column(sketch).to_pylist()
    ]
    out.drop.add(sketch)
    every: Counter[str] = Counter()
    for counts in hashed:
        every.update(counts or {})
    names = {h: f"#{h}" for h, _ in every.most_common(TOP_K)}
    for suffix, kind in TEXT_DESCRIPTORS.items():
        if descriptor_name(name, suffix) in table.column_names:
            out.kinds[descriptor_name(name, suffix)] = kind
    return _profile_from_counts(name, hashed, names, out)


def _profile_from_counts(
    name: str, hashed: list[Counter[str] | None], names: Mapping[str, str], out: _Builder
) -> TextProfile:
    """Vocabulary (even rows), cross-fitted ``f.oov`` and the top-token counts of one text."""
    halves: list[set[str]] = [set(), set()]
    for i, counts in enumerate(hashed):
        halves[i % 2].update(counts or {})
    oov = [None if c is None else oov_rate(c, halves[1 - i % 2]) for i, c in enumerate(hashed)]
    out.columns[descriptor_name(name, "oov")] = pa.array(oov, pa.float64())
    out.kinds[descriptor_name(name, "oov")] = FeatureKind.NUMERIC
    out.counts[descriptor_name(name, "top_tokens")] = _top_counts(hashed, names)
    finite = [o for o in oov if o is not None]
    return TextProfile(
        name, frozenset(halves[0]), dict(names), float(np.mean(finite)) if finite else None
    )


def _fit_text(name: str, values: list[Any], out: _Builder) -> TextProfile:
    texts = [_text(name, v) for v in values]
    tokens = [None if t is None else tokenize(t) for t in texts]
    every: Counter[str] = Counter()
    hashed: list[Counter[str] | None] = []
    for row in tokens:
        hashed.append(None if row is None else Counter(token_hash(t) for t in row))
        every.update(row or ())
    names = {token_hash(token): token for token, _ in every.most_common(TOP_K)}
    _text_columns(name, texts, [None] * len(texts), out)
    return _profile_from_counts(name, hashed, names, out)


# --------------------------------------------------------------------------- current data


def expand(table: pa.Table, profiles: Sequence[ModalProfile]) -> Expanded:
    """A window or current table with the profiles' columns expanded: raw values become
    descriptors; without them the SDK's descriptors are used, and its token sketches give
    ``f.oov`` and ``f.top_tokens``."""
    out = _Builder(table, [p.feature for p in profiles])
    for profile in profiles:
        name = profile.feature
        raw = table.column(name).to_pylist() if name in table.column_names else None
        if isinstance(profile, TextProfile):
            _expand_text(profile, raw, table, out)
        elif isinstance(profile, ImageProfile):
            if raw is not None and any(v is not None for v in raw):
                _image_columns(name, [_image_bytes(v) for v in raw], out)
        elif raw is not None and any(v is not None for v in raw):
            try:
                out.embeddings[name] = _embedding_matrix(name, raw)
            except InputError as exc:  # reported as the embedding's not-tested rows
                out.problems[name] = str(exc)
    return out.done()


def _expand_text(
    profile: TextProfile, raw: list[Any] | None, table: pa.Table, out: _Builder
) -> None:
    name = profile.feature
    sketch_name = descriptor_name(name, SKETCH)
    sketches: list[Counter[str] | None]
    if raw is not None and any(v is not None for v in raw):
        texts = [_text(name, v) for v in raw]
        sketches = [None if t is None else token_counts(t) for t in texts]
        oov = [None if c is None else oov_rate(c, profile.vocabulary) for c in sketches]
        _text_columns(name, texts, oov, out)
    elif sketch_name in table.column_names:
        sketches = [
            None if s is None else Counter(parse_sketch(str(s)))
            for s in table.column(sketch_name).to_pylist()
        ]
        oov = [None if c is None else oov_rate(c, profile.vocabulary) for c in sketches]
        out.columns[descriptor_name(name, "oov")] = pa.array(oov, pa.float64())
    else:
        return
    out.drop.add(sketch_name)
    out.counts[descriptor_name(name, "top_tokens")] = _top_counts(sketches, profile.top)
    finite = [o for o in oov if o is not None]
    out.oov[name] = float(np.mean(finite)) if finite else None


# --------------------------------------------------------------------------- helpers


class _Builder:
    def __init__(self, table: pa.Table, sources: Sequence[str]) -> None:
        self.table = table
        self.drop: set[str] = set(sources)
        self.columns: dict[str, pa.Array] = {}
        self.kinds: dict[str, FeatureKind] = {}
        self.counts: dict[str, CategoryCounts] = {}
        self.embeddings: dict[str, NDArray[np.float64]] = {}
        self.oov: dict[str, float | None] = {}
        self.problems: dict[str, str] = {}

    def done(self) -> Expanded:
        injected = set(self.columns) | set(self.counts)
        keep = [c for c in self.table.column_names if c not in self.drop and c not in injected]
        table = self.table.select(keep)
        for name, array in self.columns.items():
            table = table.append_column(name, array)
        return Expanded(table, self.kinds, self.counts, self.embeddings, self.oov, self.problems)


def _text(name: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InputError(f"text column {name!r} holds {type(value).__name__} values; send strings")


def _text_columns(
    name: str, texts: list[str | None], oov: list[float | None], out: _Builder
) -> None:
    described = [None if t is None else describe_text(t) for t in texts]
    out.columns[descriptor_name(name, "chars")] = pa.array(
        [None if d is None else float(d.chars) for d in described], pa.float64()
    )
    out.columns[descriptor_name(name, "tokens")] = pa.array(
        [None if d is None else float(d.tokens) for d in described], pa.float64()
    )
    out.columns[descriptor_name(name, "empty")] = pa.array(
        [None if d is None else d.empty for d in described], pa.bool_()
    )
    out.columns[descriptor_name(name, "non_ascii")] = pa.array(
        [None if d is None else d.non_ascii for d in described], pa.float64()
    )
    out.columns[descriptor_name(name, "oov")] = pa.array(oov, pa.float64())
    for suffix, kind in TEXT_DESCRIPTORS.items():
        out.kinds[descriptor_name(name, suffix)] = kind


def _top_counts(
    sketches: Sequence[Mapping[str, int] | None], top: Mapping[str, str]
) -> CategoryCounts:
    counts: Counter[str] = Counter({token: 0 for token in top.values()})
    counts[OTHER] = 0
    for sketch in sketches:
        for token, n in (sketch or {}).items():
            counts[top.get(token, OTHER)] += n
    total = sum(counts.values())
    present = {k: v for k, v in counts.items() if v}
    return CategoryCounts(
        total=total, counts=present, missing=0, types={"str": total} if total else {}
    )


def _image_bytes(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("b64:"):
        return base64.b64decode(value[4:])
    return value


def _image_columns(name: str, values: list[Any], out: _Builder) -> None:
    from keeneye.sdk.descriptors import describe_image  # the SDK: only for image columns

    described = [None if v is None else describe_image(_image_bytes(v)) for v in values]
    for suffix, kind in IMAGE_DESCRIPTORS.items():
        column = descriptor_name(name, suffix)
        items = [None if d is None else getattr(d, suffix) for d in described]
        if kind is FeatureKind.NUMERIC:
            out.columns[column] = pa.array(
                [None if v is None else float(v) for v in items], pa.float64()
            )
        else:
            out.columns[column] = pa.array(items, pa.string())
        out.kinds[column] = kind


def _embedding_matrix(name: str, values: list[Any]) -> NDArray[np.float64]:
    from keeneye.sdk.descriptors import decode_embedding  # the SDK: only for embeddings

    vectors = [decode_embedding(v) for v in values if v is not None]
    if not vectors:
        return np.empty((0, 0))
    sizes = {len(v) for v in vectors}
    if len(sizes) > 1:
        raise InputError(
            f"embedding column {name!r} holds vectors of {len(sizes)} different lengths "
            f"({', '.join(map(str, sorted(sizes)[:4]))}); send vectors of one model"
        )
    return np.vstack(vectors)


__all__ = [
    "CLASSIFIER",
    "EMBEDDING_SAMPLE",
    "OTHER",
    "TOP_K",
    "EmbeddingProfile",
    "Expanded",
    "ImageProfile",
    "ModalProfile",
    "TextProfile",
    "descriptor_kinds",
    "detect",
    "expand",
    "fit",
]
