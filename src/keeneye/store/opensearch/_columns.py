"""Pages of event and label documents turned into Arrow columns, a page at a time.

A page's ``_source`` objects (already parsed by ``orjson``) go to Arrow in one call per page
(``pa.array(sources, type=struct)``: the conversion loops in C++, not in Python); NaN and ±inf,
kept as text in the documents, are decoded column-wise. A page that does not fit the struct
(a numeric feature holding ``'nan'`` text) is normalised row by row first — the slow path is
only for such pages.

>>> pages = [[{"_source": {"event_id": "b", "version": "1", "ts_us": 2, "prediction_num": 0.5,
...                        "f": {"x": 1.0}}},
...           {"_source": {"event_id": "a", "version": "1", "ts_us": 2, "f": {"x": "nan"},
...                        "nonfinite": {"prediction_num": "inf"}}}]]
>>> envelope, features = events_table(pages, "numeric", {"x": "numeric"})
>>> envelope.column("event_id").to_pylist(), envelope.column("prediction").to_pylist()
(['a', 'b'], [inf, 0.5])
>>> features.column("x").to_pylist()
[nan, 1.0]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from keeneye.store._batch import ARROW_TYPES
from keeneye.store._values import NUMERIC
from keeneye.store.opensearch._codec import SUFFIX

Hits = list[dict[str, Any]]

_STR = pa.string()
_F64 = pa.float64()


def _struct(fields: Mapping[str, pa.DataType]) -> pa.StructType:
    return pa.struct([pa.field(name, kind) for name, kind in fields.items()])


def _child(page: pa.StructArray, *path: str) -> pa.Array:
    """A field of the page's structs, null where it or a parent is missing (``.field`` would
    not apply the parents' nulls)."""
    return pc.struct_field(page, list(path))


def _typed_num(page: pa.StructArray, name: str) -> pa.Array:
    """A double field with the NaN/±inf its document kept as text under ``nonfinite``."""
    values = _child(page, name)
    text = _child(page, "nonfinite", name)
    if text.null_count == len(text):
        return values
    return pc.coalesce(values, pc.cast(text, _F64))


def _convert(sources: list[dict[str, Any]], struct: pa.StructType, numeric: list[str]) -> Any:
    try:
        return pa.array(sources, type=struct)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    fixed = []
    for source in sources:
        flat = source.get("f")
        if flat:
            flat = dict(flat)
            for name in numeric:
                value = flat.get(name)
                if value is not None:
                    flat[name] = float(value)  # 'nan', 'inf', '-inf' kept as text
            source = {**source, "f": flat}
        fixed.append(source)
    return pa.array(fixed, type=struct)


def events_table(
    pages: Iterable[Hits], prediction_type: str, features: Mapping[str, str]
) -> tuple[pa.Table, pa.Table]:
    """``(envelope, features)`` of every hit, ordered by ``ts_us`` then ``event_id``.

    ``envelope`` has ``event_id``, ``version``, ``ts_us`` (int64 microseconds), ``prediction``
    (of ``prediction_type``), ``probabilities``, ``latency_seconds``; ``features`` one column
    per ``{name: kind}``.
    """
    pred_field = f"prediction_{SUFFIX[prediction_type]}"
    struct = _struct(
        {
            "event_id": _STR,
            "version": _STR,
            "ts_us": pa.int64(),
            pred_field: ARROW_TYPES[prediction_type],
            "probabilities": _STR,
            "latency_seconds": _F64,
            "nonfinite": _struct({pred_field: _STR, "latency_seconds": _STR}),
            "f": _struct({name: ARROW_TYPES[kind] for name, kind in features.items()}),
        }
    )
    numeric = [name for name, kind in features.items() if kind == NUMERIC]
    envelopes: list[pa.Table] = []
    columns: list[pa.Table] = []
    for hits in pages:
        page = _convert([hit["_source"] for hit in hits], struct, numeric)
        if prediction_type == NUMERIC:
            prediction = _typed_num(page, pred_field)
        else:
            prediction = _child(page, pred_field)
        envelopes.append(
            pa.table(
                {
                    "event_id": _child(page, "event_id"),
                    "version": _child(page, "version"),
                    "ts_us": _child(page, "ts_us"),
                    "prediction": prediction,
                    "probabilities": _child(page, "probabilities"),
                    "latency_seconds": _typed_num(page, "latency_seconds"),
                }
            )
        )
        columns.append(pa.table({name: _child(page, "f", name) for name in features}))
    schema = pa.schema(
        [
            ("event_id", _STR),
            ("version", _STR),
            ("ts_us", pa.int64()),
            ("prediction", ARROW_TYPES[prediction_type]),
            ("probabilities", _STR),
            ("latency_seconds", _F64),
        ]
    )
    envelope = pa.concat_tables(envelopes) if envelopes else schema.empty_table()
    feature_schema = pa.schema([(n, ARROW_TYPES[k]) for n, k in features.items()])
    values = pa.concat_tables(columns) if columns else feature_schema.empty_table()
    order = pc.sort_indices(envelope, [("ts_us", "ascending"), ("event_id", "ascending")])
    return envelope.take(order), values.take(order)


def labels_table(pages: Iterable[Hits], label_type: str) -> pa.Table:
    """``event_id``, ``label`` (of ``label_type``; null when the stored label is of another
    type) and ``label_ts_us`` of every label document."""
    label_field = f"label_{SUFFIX[label_type]}"
    struct = _struct(
        {
            "event_id": _STR,
            label_field: ARROW_TYPES[label_type],
            "ts_us": pa.int64(),
            "nonfinite": _struct({label_field: _STR}),
        }
    )
    tables = []
    for hits in pages:
        page = _convert([hit["_source"] for hit in hits], struct, [])
        label = (
            _typed_num(page, label_field) if label_type == NUMERIC else _child(page, label_field)
        )
        tables.append(
            pa.table(
                {
                    "event_id": _child(page, "event_id"),
                    "label": label,
                    "label_ts_us": _child(page, "ts_us"),
                }
            )
        )
    if tables:
        return pa.concat_tables(tables)
    return pa.schema(
        [("event_id", _STR), ("label", ARROW_TYPES[label_type]), ("label_ts_us", pa.int64())]
    ).empty_table()


def join_labels(event_ids: pa.Array | pa.ChunkedArray, labels: pa.Table) -> pa.Table:
    """``label`` and ``label_ts_us`` aligned with ``event_ids`` (null where no label)."""
    at = pc.index_in(event_ids, value_set=labels.column("event_id").combine_chunks())
    return pa.table(
        {
            "label": labels.column("label").take(at),
            "label_ts_us": labels.column("label_ts_us").take(at),
        }
    )
