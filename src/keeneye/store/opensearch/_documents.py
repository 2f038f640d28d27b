"""The documents the event log writes: events, invalid-value markers and catalog entries.

Pure functions from a typed batch (:func:`keeneye.store._batch.prepare_predictions`) to bulk
``(action, source)`` pairs; :mod:`.eventlog` sends them. Every document is created with an id
derived from what it records, so a retried batch writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from keeneye.store._batch import FeatureState, InvalidValue, PreparedBatch, micros
from keeneye.store.opensearch import indices as ix
from keeneye.store.opensearch._client import Op
from keeneye.store.opensearch._codec import doc_id, encode_num, flat_value
from keeneye.store.records import PredictionColumns


@dataclass
class Catalog:
    """A model's feature types (with their type-change streaks), each feature's sequence
    number, and which versions sent which features — as stored in the catalog index."""

    states: dict[str, FeatureState] = field(default_factory=dict)
    seq: dict[str, int] = field(default_factory=dict)
    version_features: set[tuple[str, str]] = field(default_factory=set)


def catalog_from(sources: Iterable[Mapping[str, Any]]) -> Catalog:
    """The catalog of a model from its documents (in ``seq`` order)."""
    catalog = Catalog()
    for src in sources:
        if src["kind"] == "feature":
            catalog.states[src["feature"]] = FeatureState(
                src["feature"],
                src["type"],
                src.get("streak_type"),
                int(src.get("streak") or 0),
                src.get("reported_type"),
            )
            catalog.seq[src["feature"]] = int(src.get("seq") or 0)
        elif src["kind"] == "version_feature":
            catalog.version_features.add((src["version"], src["feature"]))
    return catalog


def catalog_ops(
    namespace: str, model: str, batch: PreparedBatch, catalog: Catalog, received: int
) -> tuple[list[Op], dict[str, int], set[tuple[str, str]]]:
    """Catalog documents for a typed batch: new features (``create``: a second writer that
    typed one first makes its item a 409), changed streaks, type changes and new
    (version, feature) pairs; also the new features' sequence numbers and the new pairs."""
    catalog_ops: list[Op] = []
    cat_index = ix.catalog_index(namespace)
    next_seq = max(catalog.seq.values(), default=0) + 1
    new_seq: dict[str, int] = {}
    for offset, name in enumerate(batch.new_features):
        state = batch.states[name]
        new_seq[name] = max(next_seq, received * 1000) + offset
        catalog_ops.append(
            (
                {"create": {"_index": cat_index, "_id": doc_id("feature", model, name)}},
                {
                    "kind": "feature",
                    "model": model,
                    "feature": name,
                    "type": state.type,
                    "streak_type": None,
                    "streak": 0,
                    "reported_type": None,
                    "seq": new_seq[name],
                },
            )
        )
    for name, state in batch.states.items():
        if name in new_seq or state == catalog.states.get(name):
            continue
        catalog_ops.append(
            (
                {"index": {"_index": cat_index, "_id": doc_id("feature", model, name)}},
                {
                    "kind": "feature",
                    "model": model,
                    "feature": name,
                    "type": state.type,
                    "streak_type": state.streak_type,
                    "streak": state.streak,
                    "reported_type": state.reported_type,
                    "seq": catalog.seq.get(name, 0),
                },
            )
        )
    for feature, old, new in batch.type_changes:
        catalog_ops.append(
            (
                {
                    "create": {
                        "_index": cat_index,
                        "_id": doc_id("change", model, feature, new, str(received)),
                    }
                },
                {
                    "kind": "schema_change",
                    "model": model,
                    "feature": feature,
                    "old_type": old,
                    "new_type": new,
                    "changed_us": received,
                    "seq": received,
                },
            )
        )
    new_pairs = batch.version_features - catalog.version_features
    for version, name in sorted(new_pairs):
        catalog_ops.append(
            (
                {"index": {"_index": cat_index, "_id": doc_id("vf", model, version, name)}},
                {
                    "kind": "version_feature",
                    "model": model,
                    "version": version,
                    "feature": name,
                    "seq": 0,
                },
            )
        )
    return catalog_ops, new_seq, new_pairs


def event_ops(
    namespace: str,
    model: str,
    events: PredictionColumns,
    features: Mapping[str, pa.Array],
    system: Mapping[str, pa.Array],
    received: int,
) -> list[Op]:
    columns = {name: array.to_pylist() for name, array in features.items()}
    ts = system["ts"].cast(pa.int64()).to_pylist()
    pred_num = system["prediction_num"].to_pylist()
    pred_str = system["prediction_str"].to_pylist()
    pred_bool = system["prediction_bool"].to_pylist()
    probs = system["probabilities"].to_pylist()
    latency = system["latency_seconds"].to_pylist()
    ops: list[Op] = []
    index_of: dict[int, str] = {}
    for row, (event_id, version) in enumerate(zip(events.event_ids, events.versions, strict=True)):
        ts_us = int(ts[row])
        day = ts_us // 86_400_000_000  # the UTC day, without a datetime per event
        index = index_of.get(day)
        if index is None:
            index = index_of[day] = ix.daily(namespace, "events", model, ts_us)
        nonfinite: dict[str, str] = {}
        flat: dict[str, Any] = {}
        present: list[str] = []
        for name, values in columns.items():
            value = values[row]
            if value is not None:
                flat[name] = flat_value(value)
                present.append(name)
        doc: dict[str, Any] = {
            "model": model,
            "event_id": event_id,
            "version": version,
            "ts_us": ts_us,
            "timestamp": ts_us // 1000,
            "received_us": received,
            "f": flat,
            "present": present,
        }
        encode_num(pred_num[row], "prediction_num", doc, nonfinite)
        if pred_str[row] is not None:
            doc["prediction_str"] = pred_str[row]
        if pred_bool[row] is not None:
            doc["prediction_bool"] = pred_bool[row]
        if probs[row] is not None:
            doc["probabilities"] = probs[row]
        encode_num(latency[row], "latency_seconds", doc, nonfinite)
        if nonfinite:
            doc["nonfinite"] = nonfinite
        ops.append(({"create": {"_index": index, "_id": event_id}}, doc))
    return ops


def invalid_ops(namespace: str, model: str, rows: Sequence[InvalidValue]) -> list[Op]:
    ops: list[Op] = []
    for row in rows:
        ts_us = micros(row.timestamp, "timestamp")
        ops.append(
            (
                {
                    "create": {
                        "_index": ix.daily(namespace, "invalid", model, ts_us),
                        "_id": doc_id(row.event_id, row.feature),
                    }
                },
                {
                    "model": model,
                    "event_id": row.event_id,
                    "feature": row.feature,
                    "raw": row.raw,
                    "reason": row.reason,
                    "ts_us": ts_us,
                    "version": row.version,
                },
            )
        )
    return ops
