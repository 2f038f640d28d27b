"""The event log on OpenSearch (or Elasticsearch 7, through ``opensearch-py``).

Writes: one ``_bulk`` request per batch, every event a ``create`` with the event id as ``_id``
into its UTC day's index, so a retried batch stores nothing twice. The batch is acknowledged
only when every item of the bulk response is stored (``201``) or already stored (``409``);
items that failed for a transient reason (``429``, ``5xx``) are retried alone with backoff, and
any item still failing fails the whole write with :class:`~keeneye.errors.StoreError` (HTTP
503 at the collector, retried by the SDK) — never a silent loss. Labels go to their own index
(``index`` by event id: a repeat replaces) and are joined at read time; no document is ever
updated in place and no request forces a refresh per document.

Reads: windows through a point-in-time and ``search_after`` sorted on ``ts_us, event_id`` (doc
values); counts, traffic per bucket and invalid/missing values as aggregations (exact: the
terms aggregations are checked to have no ``sum_other_doc_count``). Features are typed with the
same rules as every backend (:mod:`keeneye.store._batch`); the catalog of feature types lives in
one small index.

Retention: daily indices older than ``retention_days`` are deleted by :meth:`apply_retention`
(the ISM/ILM plugins are used when the server has them: an ISM policy is installed and named in
the templates).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError as OSNotFound
from opensearchpy.exceptions import OpenSearchException, TransportError

from keeneye.clock import ClockLike, as_clock
from keeneye.errors import InputError, StoreError
from keeneye.store._batch import (
    ARROW_TYPES,
    TIMESTAMP,
    FeatureState,
    InvalidValue,
    micros,
    prepare_predictions,
    utc,
)
from keeneye.store._values import (
    BOOLEAN,
    CATEGORICAL,
    LABEL_KEY,
    NUMERIC,
    PREDICTION_KEY,
    REASON_MISSING,
    REASON_TYPE,
    REASON_UNSUPPORTED,
    RESERVED_NAMES,
    UNSUPPORTED,
    as_float,
    raw_text,
    value_type,
)
from keeneye.store.opensearch import indices as ix
from keeneye.store.records import LabelEvent, PredictionEvent, WindowData, WriteReport
from keeneye.store.search import SearchHit

_log = logging.getLogger(__name__)

_SUFFIX = {NUMERIC: "num", CATEGORICAL: "str", BOOLEAN: "bool"}
_PAGE = 5000
_TERMS = 10000
_RETRYABLE = {429, 500, 502, 503, 504}


def _check_model(model: str) -> None:
    if not isinstance(model, str) or not model:
        raise InputError(f"model name must be a non-empty string, got {model!r}")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _encode_num(value: Any, name: str, doc: dict[str, Any], nonfinite: dict[str, str]) -> None:
    """A double field; NaN and ±inf (which JSON cannot carry) go to ``nonfinite`` as text."""
    if value is None:
        return
    if math.isfinite(value):
        doc[name] = value
    else:
        nonfinite[name] = repr(float(value))  # 'nan', 'inf', '-inf'


def _decode_num(source: Mapping[str, Any], name: str) -> float | None:
    value = source.get(name)
    if value is not None:
        return float(value)
    text = (source.get("nonfinite") or {}).get(name)
    return None if text is None else float(text)


def _flat_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def _doc_id(*parts: str) -> str:
    text = "\x1f".join(parts)
    if len(text.encode()) <= 500:
        return text
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _Catalog:
    states: dict[str, FeatureState] = field(default_factory=dict)
    seq: dict[str, int] = field(default_factory=dict)
    version_features: set[tuple[str, str]] = field(default_factory=set)


@dataclass(frozen=True)
class _Item:
    status: int
    result: str | None
    error: str | None


class OpenSearchEventLog:
    """Predictions, labels and invalid values of every model in OpenSearch indices.

    Parameters
    ----------
    client:
        An ``opensearchpy.OpenSearch`` client (credentials and TLS set on it).
    namespace:
        Prefix of every index and template (lowercase; tests use one per test).
    schema_of:
        ``(model, version) -> feature names`` of a registered baseline, or ``None``: features
        outside it are counted as ``unknown_feature`` (the registry lives elsewhere).
    replicas:
        Replicas per index; ``None`` picks 0 on a one-node cluster and 1 otherwise.
    """

    def __init__(
        self,
        client: OpenSearch,
        *,
        namespace: str = "keeneye",
        clock: ClockLike | None = None,
        type_change_after: int = 50,
        schema_of: Callable[[str, str], frozenset[str] | None] | None = None,
        shards: int = 1,
        replicas: int | None = None,
        retention_days: int | None = None,
        max_retries: int = 6,
        request_timeout: float = 60.0,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self._clock = as_clock(clock)
        self._type_change_after = type_change_after
        self._schema_of = schema_of or (lambda model, version: None)
        self._retention_days = retention_days
        self._max_retries = max_retries
        self._request_timeout = request_timeout
        self._lock = threading.Lock()
        self._catalogs: dict[str, _Catalog] = {}
        self._dirty = threading.Event()
        # A new process refreshes before its first read: another writer (one that was killed,
        # say) may have acknowledged events that no refresh has made searchable yet.
        self._dirty.set()
        self._closed = False
        try:
            info = client.info()
        except OpenSearchException as exc:
            raise StoreError(f"OpenSearch is not reachable: {type(exc).__name__}") from exc
        version = info.get("version", {})
        self.distribution = str(version.get("distribution", "elasticsearch"))
        flat_type = "flat_object" if self.distribution == "opensearch" else "flattened"
        if replicas is None:
            nodes = int(client.cluster.health().get("number_of_data_nodes", 1))
            replicas = 0 if nodes <= 1 else 1
        self.replicas = replicas
        policy = self._install_policy()
        for name, body in ix.templates(
            namespace, flat_type=flat_type, shards=shards, replicas=replicas, policy_id=policy
        ).items():
            client.indices.put_index_template(name=name, body=body)
        catalog = ix.catalog_index(namespace)
        if not client.indices.exists(index=catalog):
            try:
                client.indices.create(index=catalog)
            except TransportError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise

    # -- plumbing -------------------------------------------------------------------------------
    def _install_policy(self) -> str | None:
        """An ISM delete policy when the plugin is there and retention is set, else ``None``."""
        if self._retention_days is None or self.distribution != "opensearch":
            return None
        policy_id = f"{self.namespace}-retention"
        body = {
            "policy": {
                "description": "keeneye: delete event indices after the retention period",
                "default_state": "hot",
                "states": [
                    {
                        "name": "hot",
                        "actions": [],
                        "transitions": [
                            {
                                "state_name": "delete",
                                "conditions": {"min_index_age": f"{self._retention_days}d"},
                            }
                        ],
                    },
                    {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
                ],
            }
        }
        try:
            self.client.transport.perform_request(
                "PUT", f"/_plugins/_ism/policies/{policy_id}", body=body
            )
        except TransportError as exc:
            if exc.status_code == 409:  # already installed
                return policy_id
            return None  # no ISM plugin: retention by apply_retention
        return policy_id

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the OpenSearch event log is closed")

    def _received(self) -> int:
        return micros(utc(self._clock.now(), "clock"), "clock")

    def _bulk(
        self, ops: list[tuple[dict[str, Any], dict[str, Any] | None]], *, refresh: bool = False
    ) -> list[_Item]:
        """Send ``(action, source)`` pairs; retry items that failed transiently; return one
        result per op. Raises StoreError when items still fail after the retries."""
        results: list[_Item | None] = [None] * len(ops)
        pending = list(range(len(ops)))
        delay = 0.1
        for attempt in range(self._max_retries + 1):
            body: list[dict[str, Any]] = []
            for i in pending:
                action, source = ops[i]
                body.append(action)
                if source is not None:
                    body.append(source)
            try:
                # A shard without an active copy fails its items after 10 s (then retried here)
                # instead of holding the whole request for the server's default minute.
                # (``request_timeout`` set too: opensearch-py would take ``timeout`` for it.)
                response = self.client.bulk(
                    body=body,
                    refresh="true" if refresh else "false",
                    timeout="10s",
                    request_timeout=self._request_timeout,
                )
            except (TransportError, OpenSearchException) as exc:
                status = getattr(exc, "status_code", None)
                if isinstance(status, int) and status not in _RETRYABLE and status != "N/A":
                    raise StoreError(f"OpenSearch refused a bulk request (HTTP {status})") from exc
                if attempt == self._max_retries:
                    raise StoreError(
                        f"OpenSearch bulk request failed after {attempt + 1} attempts: "
                        f"{type(exc).__name__}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            retry: list[int] = []
            for i, item in zip(pending, response["items"], strict=True):
                (result,) = item.values()
                status = int(result.get("status", 500))
                error = result.get("error")
                reason = None
                if error is not None:
                    reason = (
                        f"{error.get('type')}: {error.get('reason')}"
                        if isinstance(error, dict)
                        else str(error)
                    )
                results[i] = _Item(status, result.get("result"), reason)
                if status in _RETRYABLE:
                    retry.append(i)
            answered = [r for r in (results[i] for i in pending) if r is not None]
            fatal = [
                r
                for r in answered
                if r.status >= 400 and r.status not in _RETRYABLE and r.status not in (404, 409)
            ]
            if fatal:
                first = fatal[0]
                raise StoreError(
                    f"OpenSearch refused {len(fatal)} of {len(ops)} items (HTTP {first.status}: "
                    f"{(first.error or '')[:300]})"
                )
            if not retry:
                break
            if attempt == self._max_retries:
                first_retry = results[retry[0]]
                assert first_retry is not None
                raise StoreError(
                    f"OpenSearch did not store {len(retry)} of {len(ops)} items after "
                    f"{attempt + 1} attempts (HTTP {first_retry.status}); nothing acknowledged"
                )
            pending = retry
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        return [r for r in results if r is not None]

    def _refresh_if_dirty(self) -> None:
        if self._dirty.is_set():
            self._dirty.clear()
            try:
                self.client.indices.refresh(
                    index=f"{self.namespace}-*", allow_no_indices=True, ignore_unavailable=True
                )
            except OpenSearchException as exc:
                self._dirty.set()
                raise StoreError(f"OpenSearch refresh failed: {type(exc).__name__}") from exc

    def _search(
        self, index: str | list[str], body: dict[str, Any], **params: Any
    ) -> dict[str, Any]:
        names = index if isinstance(index, str) else ",".join(index)
        try:
            result: dict[str, Any] = self.client.search(
                index=names, body=body, ignore_unavailable=True, allow_no_indices=True, **params
            )
        except OSNotFound:
            return {"hits": {"hits": [], "total": {"value": 0}}, "aggregations": {}}
        except OpenSearchException as exc:
            raise StoreError(f"OpenSearch search failed: {_reason(exc)}") from exc
        return result

    def _existing(
        self, kind: str, model: str, start_us: int | None = None, end_us: int | None = None
    ) -> list[str]:
        """Existing daily indices of ``model`` (of the days overlapping ``[start, end)``)."""
        prefix = f"{self.namespace}-{kind}-{ix.index_model(model)}-"
        try:
            found = self.client.indices.get_alias(index=prefix + "*", allow_no_indices=True)
        except OSNotFound:
            return []
        except OpenSearchException as exc:
            raise StoreError(f"OpenSearch index listing failed: {_reason(exc)}") from exc
        first = ix.day_of(start_us) if start_us is not None else None
        last = ix.day_of(max(end_us - 1, 0)) if end_us is not None else None
        names = []
        for name in found:
            day = ix.day_from_index(name)
            if day is None or name != prefix + day:
                continue
            if (first is None or day >= first) and (last is None or day <= last):
                names.append(name)
        return sorted(names)

    # -- the catalog of feature types -----------------------------------------------------------
    def _load_catalog(self, model: str) -> _Catalog:
        body = {
            "query": {"bool": {"filter": [{"term": {"model": model}}]}},
            "size": _TERMS,
            "sort": [{"seq": "asc"}],
        }
        hits = self._search(ix.catalog_index(self.namespace), body)["hits"]["hits"]
        catalog = _Catalog()
        for hit in hits:
            src = hit["_source"]
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

    def _catalog(self, model: str) -> _Catalog:
        found = self._catalogs.get(model)
        if found is None:
            found = self._catalogs[model] = self._load_catalog(model)
        return found

    # -- writes ---------------------------------------------------------------------------------
    def write_predictions(self, model: str, events: Sequence[PredictionEvent]) -> WriteReport:
        """Store a batch; an ``event_id`` already stored counts as a duplicate. Returns only
        when every event of the batch is stored in OpenSearch (translog synced)."""
        _check_model(model)
        self._check_open()
        if not events:
            return WriteReport(stored=0)
        with self._lock:
            for _ in range(3):
                try:
                    return self._write_predictions(model, events)
                except _CatalogMoved:
                    self._catalogs.pop(model, None)
            return self._write_predictions(model, events)

    def _write_predictions(self, model: str, events: Sequence[PredictionEvent]) -> WriteReport:
        catalog = self._catalog(model)
        schemas: dict[str, frozenset[str] | None] = {}

        def schema_of(version: str) -> frozenset[str] | None:
            if version not in schemas:
                schemas[version] = self._schema_of(model, version)
            return schemas[version]

        batch = prepare_predictions(
            events,
            catalog.states,
            schema_of=schema_of,
            type_change_after=self._type_change_after,
            known_pairs=catalog.version_features,
        )
        received = self._received()
        # 1. the catalog first: a reader that sees an event knows its features' types.
        catalog_ops: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        cat_index = ix.catalog_index(self.namespace)
        next_seq = max(catalog.seq.values(), default=0) + 1
        new_seq: dict[str, int] = {}
        for offset, name in enumerate(batch.new_features):
            state = batch.states[name]
            new_seq[name] = max(next_seq, received * 1000) + offset
            catalog_ops.append(
                (
                    {"create": {"_index": cat_index, "_id": _doc_id("feature", model, name)}},
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
                    {"index": {"_index": cat_index, "_id": _doc_id("feature", model, name)}},
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
                            "_id": _doc_id("change", model, feature, new, str(received)),
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
                    {"index": {"_index": cat_index, "_id": _doc_id("vf", model, version, name)}},
                    {
                        "kind": "version_feature",
                        "model": model,
                        "version": version,
                        "feature": name,
                        "seq": 0,
                    },
                )
            )
        if catalog_ops:
            items = self._bulk(catalog_ops, refresh=True)
            if any(item.status == 409 for item in items[: len(batch.new_features)]):
                raise _CatalogMoved  # another writer typed a feature first: type again
        # 2. the events and their invalid-value markers, one bulk request.
        ops = self._event_ops(model, batch.events, batch.features, batch.system, received)
        n_events = len(ops)
        ops += self._invalid_ops(model, batch.invalid)
        items = self._bulk(ops)
        self._dirty.set()
        created = {
            batch.events[i].event_id
            for i, item in enumerate(items[:n_events])
            if item.status == 201
        }
        # 3. the in-memory catalog follows what is stored.
        catalog.states = {**catalog.states, **batch.states}
        catalog.seq = {**catalog.seq, **new_seq}
        catalog.version_features = catalog.version_features | new_pairs
        counts: dict[str, int] = {}
        for row in batch.invalid:
            if row.event_id in created:
                counts[row.feature] = counts.get(row.feature, 0) + 1
        return WriteReport(
            stored=len(created), duplicates=len(events) - len(created), invalid_values=counts
        )

    def _event_ops(
        self,
        model: str,
        events: list[PredictionEvent],
        features: Mapping[str, pa.Array],
        system: Mapping[str, pa.Array],
        received: int,
    ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        columns = {name: array.to_pylist() for name, array in features.items()}
        ts = system["ts"].cast(pa.int64()).to_pylist()
        pred_num = system["prediction_num"].to_pylist()
        pred_str = system["prediction_str"].to_pylist()
        pred_bool = system["prediction_bool"].to_pylist()
        probs = system["probabilities"].to_pylist()
        latency = system["latency_seconds"].to_pylist()
        ops: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        index_of: dict[str, str] = {}
        for row, event in enumerate(events):
            ts_us = int(ts[row])
            day = ix.day_of(ts_us)
            index = index_of.get(day)
            if index is None:
                index = index_of[day] = ix.daily(self.namespace, "events", model, ts_us)
            nonfinite: dict[str, str] = {}
            flat: dict[str, Any] = {}
            present: list[str] = []
            for name, values in columns.items():
                value = values[row]
                if value is not None:
                    flat[name] = _flat_value(value)
                    present.append(name)
            doc: dict[str, Any] = {
                "model": model,
                "event_id": event.event_id,
                "version": event.version,
                "ts_us": ts_us,
                "timestamp": ts_us // 1000,
                "received_us": received,
                "f": flat,
                "present": present,
            }
            _encode_num(pred_num[row], "prediction_num", doc, nonfinite)
            if pred_str[row] is not None:
                doc["prediction_str"] = pred_str[row]
            if pred_bool[row] is not None:
                doc["prediction_bool"] = pred_bool[row]
            if probs[row] is not None:
                doc["probabilities"] = probs[row]
            _encode_num(latency[row], "latency_seconds", doc, nonfinite)
            if nonfinite:
                doc["nonfinite"] = nonfinite
            ops.append(({"create": {"_index": index, "_id": event.event_id}}, doc))
        return ops

    def _invalid_ops(
        self, model: str, rows: Sequence[InvalidValue]
    ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        ops: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        for row in rows:
            ts_us = micros(row.timestamp, "timestamp")
            ops.append(
                (
                    {
                        "create": {
                            "_index": ix.daily(self.namespace, "invalid", model, ts_us),
                            "_id": _doc_id(row.event_id, row.feature),
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

    def write_labels(self, model: str, labels: Sequence[LabelEvent]) -> WriteReport:
        """Store labels in the model's labels index (a repeat replaces the old label);
        ``pending`` counts labels whose prediction is not stored yet."""
        _check_model(model)
        self._check_open()
        if not labels:
            return WriteReport(stored=0)
        latest: dict[str, LabelEvent] = {}
        for position, label in enumerate(labels):
            if not isinstance(label.event_id, str) or not label.event_id:
                raise InputError(f"label {position}: event_id must be a non-empty string")
            utc(label.timestamp, f"label {label.event_id!r} timestamp")
            latest[label.event_id] = label
        with self._lock:
            catalog = self._catalog(model)
            state = catalog.states.get(LABEL_KEY)
            received = self._received()
            new_state: FeatureState | None = None
            index = ix.labels_index(self.namespace, model)
            ops: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
            invalid = 0
            for label in latest.values():
                kind = value_type(label.label)
                if state is None and kind is not None and kind != UNSUPPORTED:
                    state = new_state = FeatureState(LABEL_KEY, kind)
                ts_us = micros(label.timestamp, "label timestamp")
                doc: dict[str, Any] = {
                    "model": model,
                    "event_id": label.event_id,
                    "label_raw": raw_text(label.label),
                    "ts_us": ts_us,
                    "received_us": received,
                }
                nonfinite: dict[str, str] = {}
                if kind == NUMERIC:
                    _encode_num(as_float(label.label), "label_num", doc, nonfinite)
                elif kind in (CATEGORICAL, BOOLEAN):
                    doc[f"label_{_SUFFIX[kind]}"] = label.label
                if nonfinite:
                    doc["nonfinite"] = nonfinite
                if kind is not None and (
                    kind == UNSUPPORTED or state is None or kind != state.type
                ):
                    doc["feature"] = LABEL_KEY
                    doc["reason"] = REASON_UNSUPPORTED if kind == UNSUPPORTED else REASON_TYPE
                    invalid += 1
                ops.append(({"index": {"_index": index, "_id": label.event_id}}, doc))
            if new_state is not None:
                items = self._bulk(
                    [
                        (
                            {
                                "create": {
                                    "_index": ix.catalog_index(self.namespace),
                                    "_id": _doc_id("feature", model, LABEL_KEY),
                                }
                            },
                            {
                                "kind": "feature",
                                "model": model,
                                "feature": LABEL_KEY,
                                "type": new_state.type,
                                "streak": 0,
                                "seq": 0,
                            },
                        )
                    ],
                    refresh=True,
                )
                if items[0].status == 409:
                    self._catalogs.pop(model, None)
                    return self.write_labels(model, labels)  # typed by another writer first
                catalog.states = {**catalog.states, LABEL_KEY: new_state}
            items = self._bulk(ops)
            self._dirty.set()
        replaced = sum(1 for item in items if item.result == "updated")
        present = self._count_events_with_ids(model, list(latest))
        counts = {LABEL_KEY: invalid} if invalid else {}
        return WriteReport(
            stored=len(latest),
            replaced=replaced + len(labels) - len(latest),
            invalid_values=counts,
            pending=len(latest) - present,
        )

    def _count_events_with_ids(self, model: str, ids: list[str]) -> int:
        names = self._existing("events", model)
        if not names:
            return 0
        self._refresh_if_dirty()
        total = 0
        for chunk in _chunks(ids, _TERMS):
            body = {
                "query": {
                    "bool": {"filter": [{"term": {"model": model}}, {"ids": {"values": chunk}}]}
                },
                "size": 0,
                "track_total_hits": True,
            }
            total += int(self._search(names, body)["hits"]["total"]["value"])
        return total

    # -- reads ----------------------------------------------------------------------------------
    def _window_filter(
        self, model: str, start_us: int, end_us: int, version: str | None
    ) -> list[dict[str, Any]]:
        filters: list[dict[str, Any]] = [
            {"term": {"model": model}},
            {"range": {"ts_us": {"gte": start_us, "lt": end_us}}},
        ]
        if version is not None:
            filters.append({"term": {"version": version}})
        return filters

    def _scan(
        self, names: list[str], query: dict[str, Any], source: list[str] | bool
    ) -> Iterator[dict[str, Any]]:
        """Every hit of ``query`` in ``(ts_us, event_id)`` order: point-in-time + search_after."""
        pit = self._open_pit(names)
        try:
            after: list[Any] | None = None
            while True:
                body: dict[str, Any] = {
                    "size": _PAGE,
                    "query": query,
                    "_source": source,
                    "sort": [{"ts_us": "asc"}, {"event_id": "asc"}],
                    "pit": {"id": pit, "keep_alive": "2m"},
                    "track_total_hits": False,
                }
                if after is not None:
                    body["search_after"] = after
                try:
                    page = self.client.search(body=body)
                except OpenSearchException as exc:
                    raise StoreError(f"OpenSearch window read failed: {_reason(exc)}") from exc
                hits = page["hits"]["hits"]
                if not hits:
                    return
                pit = page.get("pit_id", pit)
                yield from hits
                if len(hits) < _PAGE:
                    return
                after = hits[-1]["sort"]
        finally:
            self._close_pit(pit)

    def _open_pit(self, names: list[str]) -> str:
        try:
            if self.distribution == "opensearch":
                return str(
                    self.client.create_pit(index=",".join(names), params={"keep_alive": "2m"})[
                        "pit_id"
                    ]
                )
            response = self.client.transport.perform_request(
                "POST", f"/{','.join(names)}/_pit", params={"keep_alive": "2m"}
            )
            return str(response["id"])
        except OpenSearchException as exc:
            raise StoreError(f"OpenSearch point-in-time failed: {_reason(exc)}") from exc

    def _close_pit(self, pit: str) -> None:
        try:
            if self.distribution == "opensearch":
                self.client.delete_pit(body={"pit_id": [pit]})
            else:
                self.client.transport.perform_request("DELETE", "/_pit", body={"id": pit})
        except OpenSearchException:
            pass  # it expires by itself

    def _labels_for(self, model: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored label documents of ``ids`` (a join at read time)."""
        out: dict[str, dict[str, Any]] = {}
        if not ids:
            return out
        index = ix.labels_index(self.namespace, model)
        if not self.client.indices.exists(index=index):
            return out
        for chunk in _chunks(list(ids), _TERMS):
            body = {"query": {"ids": {"values": chunk}}, "size": len(chunk)}
            for hit in self._search(index, body)["hits"]["hits"]:
                out[hit["_id"]] = hit["_source"]
        return out

    def read_window(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        features: Sequence[str] | None = None,
    ) -> WindowData:
        """Rows with ``start <= timestamp < end``, ordered by timestamp then event id (label
        joined where present); a requested feature never stored is an all-null column."""
        self._check_open()
        start, end = utc(start, "start"), utc(end, "end")
        start_us, end_us = micros(start, "start"), micros(end, "end")
        catalog = self._load_catalog(model)
        types = {n: s.type for n, s in catalog.states.items()}
        if not self._existing("events", model) and not types:
            from keeneye.errors import NotFoundError

            raise NotFoundError(f"unknown model {model!r}")
        stored = [n for n in types if n not in RESERVED_NAMES]
        wanted = list(stored) if features is None else list(features)
        selected = [n for n in wanted if n in types and n not in RESERVED_NAMES]
        names = self._existing("events", model, start_us, end_us)
        self._refresh_if_dirty()
        source = [
            "event_id",
            "version",
            "ts_us",
            "prediction_*",
            "probabilities",
            "latency_seconds",
            "nonfinite",
            *(f"f.{n}" for n in selected),
        ]
        hits: list[dict[str, Any]] = []
        if names and end_us > start_us:
            query = {"bool": {"filter": self._window_filter(model, start_us, end_us, version)}}
            hits = [hit["_source"] for hit in self._scan(names, query, source)]
        labels = self._labels_for(model, [h["event_id"] for h in hits])
        pred_type = types.get(PREDICTION_KEY, NUMERIC)
        label_type = types.get(LABEL_KEY, NUMERIC)
        pred_field = f"prediction_{_SUFFIX[pred_type]}"
        label_field = f"label_{_SUFFIX[label_type]}"
        labelled = [labels.get(h["event_id"]) for h in hits]
        if pred_type == NUMERIC:
            predictions: list[Any] = [_decode_num(h, pred_field) for h in hits]
        else:
            predictions = [h.get(pred_field) for h in hits]
        if label_type == NUMERIC:
            label_values: list[Any] = [
                None if lab is None else _decode_num(lab, label_field) for lab in labelled
            ]
        else:
            label_values = [None if lab is None else lab.get(label_field) for lab in labelled]
        label_ts = [None if lab is None else int(lab["ts_us"]) for lab in labelled]
        events = pa.table(
            {
                "event_id": pa.array([h["event_id"] for h in hits], type=pa.string()),
                "version": pa.array([h["version"] for h in hits], type=pa.string()),
                "timestamp": pa.array([int(h["ts_us"]) for h in hits], type=pa.int64()).cast(
                    TIMESTAMP
                ),
                "prediction": pa.array(predictions, type=ARROW_TYPES[pred_type]),
                "probabilities": pa.array([h.get("probabilities") for h in hits], type=pa.string()),
                "latency_seconds": pa.array(
                    [_decode_num(h, "latency_seconds") for h in hits], type=pa.float64()
                ),
                "label": pa.array(label_values, type=ARROW_TYPES[label_type]),
                "label_timestamp": pa.array(label_ts, type=pa.int64()).cast(TIMESTAMP),
            }
        )
        columns: dict[str, pa.Array] = {}
        for name in wanted:
            kind = types.get(name)
            if kind is None or name in RESERVED_NAMES:
                columns[name] = pa.nulls(len(hits))
                continue
            raw = [(h.get("f") or {}).get(name) for h in hits]
            if kind == NUMERIC:
                columns[name] = pa.array(
                    [None if v is None else float(v) for v in raw], type=pa.float64()
                )
            else:
                columns[name] = pa.array(raw, type=ARROW_TYPES[kind])
        return WindowData(features=_features_table(columns, len(hits)), events=events)

    def count_events(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        bucket_seconds: int | None = None,
    ) -> pa.Table:
        """Event counts in ``[start, end)`` as aggregations (see the protocol for the shape)."""
        self._check_open()
        start, end = utc(start, "start"), utc(end, "end")
        start_us, end_us = micros(start, "start"), micros(end, "end")
        if bucket_seconds is not None and bucket_seconds < 1:
            raise InputError(f"bucket_seconds must be >= 1, got {bucket_seconds}")
        names = self._existing("events", model, start_us, end_us)
        self._refresh_if_dirty()
        query = {"bool": {"filter": self._window_filter(model, start_us, end_us, version)}}
        by_version = {"terms": {"field": "version", "size": _TERMS, "order": {"_key": "asc"}}}
        if bucket_seconds is None:
            rows: list[tuple[str, int]] = []
            if names:
                aggs = self._search(names, {"size": 0, "query": query, "aggs": {"v": by_version}})[
                    "aggregations"
                ]
                rows = [(b["key"], int(b["doc_count"])) for b in _exact(aggs["v"])]
            if version is not None and not rows:
                rows = [(version, 0)]
            return pa.table(
                {
                    "version": pa.array([r[0] for r in rows], type=pa.string()),
                    "events": pa.array([r[1] for r in rows], type=pa.int64()),
                }
            )
        step = bucket_seconds * 1_000_000
        found: dict[int, list[tuple[str | None, int]]] = {}
        if names:
            hist = {
                "histogram": {
                    "field": "ts_us",
                    "interval": step,
                    "offset": start_us % step,
                    "min_doc_count": 1,
                },
                "aggs": {"v": by_version},
            }
            aggs = self._search(names, {"size": 0, "query": query, "aggs": {"h": hist}})[
                "aggregations"
            ]
            for bucket in aggs["h"]["buckets"]:
                index = (int(bucket["key"]) - start_us) // step
                found[index] = [(b["key"], int(b["doc_count"])) for b in _exact(bucket["v"])]
        n_buckets = -(-(end_us - start_us) // step)
        starts, versions, counts = [], [], []
        for bucket_index in range(max(n_buckets, 0)):
            at = start_us + bucket_index * step
            for row_version, count in found.get(bucket_index, [(version, 0)]):
                starts.append(at)
                versions.append(row_version)
                counts.append(count)
        return pa.table(
            {
                "bucket_start": pa.array(starts, type=pa.int64()).cast(TIMESTAMP),
                "version": pa.array(versions, type=pa.string()),
                "events": pa.array(counts, type=pa.int64()),
            }
        )

    def count_labelled(
        self, model: str, start: datetime, end: datetime, *, bucket_seconds: int
    ) -> pa.Table:
        """Per bucket with events: ``events``, ``labels`` (joined labels of the label's type)
        and ``last_label_at``. Labels live in their own index, so the join runs here over the
        window's event ids (read with a point-in-time, ids only)."""
        self._check_open()
        start, end = utc(start, "start"), utc(end, "end")
        if bucket_seconds < 1:
            raise InputError(f"bucket_seconds must be >= 1, got {bucket_seconds}")
        start_us, end_us = micros(start, "start"), micros(end, "end")
        schema = pa.schema(
            [
                ("bucket_start", TIMESTAMP),
                ("events", pa.int64()),
                ("labels", pa.int64()),
                ("last_label_at", TIMESTAMP),
            ]
        )
        names = self._existing("events", model, start_us, end_us)
        if not names:
            return schema.empty_table()
        self._refresh_if_dirty()
        query = {"bool": {"filter": self._window_filter(model, start_us, end_us, None)}}
        hits = [h["_source"] for h in self._scan(names, query, ["event_id", "ts_us"])]
        if not hits:
            return schema.empty_table()
        label_type = self._load_catalog(model).states.get(LABEL_KEY)
        label_field = f"label_{_SUFFIX[label_type.type if label_type else NUMERIC]}"
        labels = self._labels_for(model, [h["event_id"] for h in hits])
        step = bucket_seconds * 1_000_000
        buckets = np.array([(int(h["ts_us"]) - start_us) // step for h in hits], dtype=np.int64)
        has = np.zeros(len(hits), dtype=bool)
        label_ts = np.full(len(hits), np.iinfo(np.int64).min, dtype=np.int64)
        for i, h in enumerate(hits):
            lab = labels.get(h["event_id"])
            if lab is not None and (
                lab.get(label_field) is not None
                or (lab.get("nonfinite") or {}).get(label_field) is not None
            ):
                has[i] = True
                label_ts[i] = int(lab["ts_us"])
        rows_start, rows_events, rows_labels, rows_last = [], [], [], []
        for bucket in np.unique(buckets):
            mask = buckets == bucket
            rows_start.append(start_us + int(bucket) * step)
            rows_events.append(int(mask.sum()))
            n_labels = int(has[mask].sum())
            rows_labels.append(n_labels)
            rows_last.append(int(label_ts[mask].max()) if n_labels else None)
        return pa.table(
            {
                "bucket_start": pa.array(rows_start, type=pa.int64()).cast(TIMESTAMP),
                "events": pa.array(rows_events, type=pa.int64()),
                "labels": pa.array(rows_labels, type=pa.int64()),
                "last_label_at": pa.array(rows_last, type=pa.int64()).cast(TIMESTAMP),
            }
        )

    def invalid_value_counts(
        self, model: str, start: datetime, end: datetime, *, version: str | None = None
    ) -> Mapping[str, Mapping[str, int]]:
        """``{feature: {reason: count}}`` in the window (reasons as in the DuckDB store)."""
        window = (utc(start, "start"), utc(end, "end"))
        return self._invalid_counts(model, [window], by_version=False, version=version)[0].get(
            None, {}
        )

    def invalid_value_counts_by_window(
        self, model: str, windows: Sequence[tuple[datetime, datetime]]
    ) -> list[dict[str, dict[str, dict[str, int]]]]:
        """Per window ``{version: {feature: {reason: count}}}``, from two aggregations."""
        checked = [(utc(s, "start"), utc(e, "end")) for s, e in windows]
        found = self._invalid_counts(model, checked, by_version=True, version=None)
        return [{str(v): c for v, c in w.items() if v is not None} for w in found]

    def _invalid_counts(
        self,
        model: str,
        windows: Sequence[tuple[datetime, datetime]],
        *,
        by_version: bool,
        version: str | None,
    ) -> list[dict[str | None, dict[str, dict[str, int]]]]:
        self._check_open()
        out: list[dict[str | None, dict[str, dict[str, int]]]] = [{} for _ in windows]
        if not windows:
            return out
        spans = [(micros(s, "start"), micros(e, "end")) for s, e in windows]
        lowest, highest = min(s for s, _ in spans), max(e for _, e in spans)
        ranges = [{"key": str(i), "from": s, "to": e} for i, (s, e) in enumerate(spans)]
        self._refresh_if_dirty()
        none_key = "\u0000none"
        # 1. the invalid markers (predictions' and features' in daily indices; labels' with them)
        marker_indices = self._existing("invalid", model, lowest, highest)
        label_index = ix.labels_index(self.namespace, model)
        if self.client.indices.exists(index=label_index):
            marker_indices.append(label_index)
        if marker_indices:
            filters: list[dict[str, Any]] = [
                {"term": {"model": model}},
                {"exists": {"field": "reason"}},
                {"range": {"ts_us": {"gte": lowest, "lt": highest}}},
            ]
            if version is not None:
                filters.append({"term": {"version": version}})
            aggs = {
                "w": {
                    "range": {"field": "ts_us", "keyed": True, "ranges": ranges},
                    "aggs": {
                        "v": {
                            "terms": {"field": "version", "size": _TERMS, "missing": none_key},
                            "aggs": {
                                "f": {
                                    "terms": {"field": "feature", "size": _TERMS},
                                    "aggs": {"r": {"terms": {"field": "reason", "size": 100}}},
                                }
                            },
                        }
                    },
                }
            }
            result = self._search(
                marker_indices, {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": aggs}
            )
            for key, window_bucket in result["aggregations"]["w"]["buckets"].items():
                groups = out[int(key)]
                for vb in _exact(window_bucket["v"]):
                    group = (None if vb["key"] == none_key else vb["key"]) if by_version else None
                    for fb in _exact(vb["f"]):
                        for rb in _exact(fb["r"]):
                            reasons = groups.setdefault(group, {}).setdefault(fb["key"], {})
                            reasons[rb["key"]] = reasons.get(rb["key"], 0) + int(rb["doc_count"])
        # 2. missing values: events of versions that send a feature, minus those with a value.
        catalog = self._load_catalog(model)
        seen: dict[str, set[str]] = {}
        for v, name in catalog.version_features:
            if name in catalog.states and name not in RESERVED_NAMES:
                seen.setdefault(name, set()).add(v)
        names = self._existing("events", model, lowest, highest)
        if not seen or not names:
            return out
        filters = [{"term": {"model": model}}, {"range": {"ts_us": {"gte": lowest, "lt": highest}}}]
        if version is not None:
            filters.append({"term": {"version": version}})
        aggs = {
            "w": {
                "range": {"field": "ts_us", "keyed": True, "ranges": ranges},
                "aggs": {
                    "v": {
                        "terms": {"field": "version", "size": _TERMS},
                        "aggs": {"p": {"terms": {"field": "present", "size": _TERMS}}},
                    }
                },
            }
        }
        result = self._search(
            names, {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": aggs}
        )
        for key, window_bucket in result["aggregations"]["w"]["buckets"].items():
            groups = out[int(key)]
            nulls: dict[str | None, dict[str, int]] = {}
            for vb in _exact(window_bucket["v"]):
                group = vb["key"] if by_version else None
                present = {b["key"]: int(b["doc_count"]) for b in _exact(vb["p"])}
                for name, versions in seen.items():
                    if vb["key"] in versions:
                        found = int(vb["doc_count"]) - present.get(name, 0)
                        nulls.setdefault(group, {})[name] = (
                            nulls.get(group, {}).get(name, 0) + found
                        )
            for group, by_name in nulls.items():
                for name, found in by_name.items():
                    known = groups.get(group, {}).get(name, {})
                    found -= known.get(REASON_TYPE, 0) + known.get(REASON_UNSUPPORTED, 0)
                    if found > 0:
                        groups.setdefault(group, {}).setdefault(name, {})[REASON_MISSING] = found
        return out

    def feature_types(self, model: str) -> Mapping[str, str]:
        """``{feature: type}`` with types ``numeric``, ``categorical`` or ``boolean``."""
        self._check_open()
        return {
            n: s.type
            for n, s in self._load_catalog(model).states.items()
            if n not in RESERVED_NAMES
        }

    def schema_changes(self, model: str) -> pa.Table:
        """Recorded type changes: ``feature``, ``old_type``, ``new_type``, ``changed_at``."""
        self._check_open()
        body = {
            "query": {
                "bool": {
                    "filter": [{"term": {"model": model}}, {"term": {"kind": "schema_change"}}]
                }
            },
            "size": _TERMS,
            "sort": [{"changed_us": "asc"}, {"feature": "asc"}],
        }
        hits = [
            h["_source"]
            for h in self._search(ix.catalog_index(self.namespace), body)["hits"]["hits"]
        ]
        return pa.table(
            {
                "feature": pa.array([h["feature"] for h in hits], type=pa.string()),
                "old_type": pa.array([h["old_type"] for h in hits], type=pa.string()),
                "new_type": pa.array([h["new_type"] for h in hits], type=pa.string()),
                "changed_at": pa.array([int(h["changed_us"]) for h in hits], type=pa.int64()).cast(
                    TIMESTAMP
                ),
            }
        )

    # -- what the registry's summaries need from the events ------------------------------------
    def event_stats(self, model: str) -> EventStats:
        """Events, first/last time, joined labels and their median delay, latest version."""
        self._check_open()
        names = self._existing("events", model)
        if not names:
            return EventStats(0, None, None, 0, None, None)
        self._refresh_if_dirty()
        query = {"bool": {"filter": [{"term": {"model": model}}]}}
        aggs = {"first": {"min": {"field": "ts_us"}}, "last": {"max": {"field": "ts_us"}}}
        body = {
            "size": 1,
            "query": query,
            "aggs": aggs,
            "track_total_hits": True,
            "sort": [{"ts_us": "desc"}, {"event_id": "desc"}],
            "_source": ["version"],
        }
        result = self._search(names, body)
        total = int(result["hits"]["total"]["value"])
        hits = result["hits"]["hits"]
        latest = hits[0]["_source"]["version"] if hits else None
        first = result["aggregations"]["first"]["value"]
        last = result["aggregations"]["last"]["value"]
        # labels joined to stored predictions, and their delays
        delays: list[float] = []
        label_index = ix.labels_index(self.namespace, model)
        if self.client.indices.exists(index=label_index):
            label_query = {"bool": {"filter": [{"term": {"model": model}}]}}
            label_ts = {
                h["_id"]: int(h["_source"]["ts_us"])
                for h in self._scan([label_index], label_query, ["event_id", "ts_us"])
            }
            for chunk in _chunks(list(label_ts), _TERMS):
                body = {
                    "query": {
                        "bool": {"filter": [{"term": {"model": model}}, {"ids": {"values": chunk}}]}
                    },
                    "size": len(chunk),
                    "_source": ["ts_us"],
                }
                for hit in self._search(names, body)["hits"]["hits"]:
                    delays.append((label_ts[hit["_id"]] - int(hit["_source"]["ts_us"])) / 1e6)
        return EventStats(
            events=total,
            first_event=_from_us(first),
            last_event=_from_us(last),
            labels=len(delays),
            median_label_delay_seconds=float(np.median(delays)) if delays else None,
            latest_version=latest,
        )

    def models(self) -> list[str]:
        """Models with a catalog entry (every model that ever stored an event or a label)."""
        body = {"size": 0, "aggs": {"m": {"terms": {"field": "model", "size": _TERMS}}}}
        result = self._search(ix.catalog_index(self.namespace), body)
        return sorted(
            b["key"] for b in result.get("aggregations", {}).get("m", {}).get("buckets", [])
        )

    # -- search (the UI's debugging page) -------------------------------------------------------
    def search_events(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        feature: str | None = None,
        value: str | None = None,
        prediction: str | None = None,
        limit: int = 100,
    ) -> list[SearchHit]:
        """Newest-first events of a window whose feature equals ``value`` (as typed) and/or
        whose prediction equals ``prediction``, label joined; one query, at most ``limit``."""
        self._check_open()
        start_us, end_us = micros(utc(start, "start"), "start"), micros(utc(end, "end"), "end")
        names = self._existing("events", model, start_us, end_us)
        types = {n: s.type for n, s in self._load_catalog(model).states.items()}
        filters = self._window_filter(model, start_us, end_us, version)
        if feature is not None and value is not None:
            filters.append({"term": {f"f.{feature}": _search_text(value, types.get(feature))}})
        pred_type = types.get(PREDICTION_KEY, NUMERIC)
        if prediction is not None:
            filters.append(_prediction_filter(prediction, pred_type))
        hits: list[dict[str, Any]] = []
        if names:
            self._refresh_if_dirty()
            body = {
                "size": max(1, min(limit, _TERMS)),
                "query": {"bool": {"filter": filters}},
                "sort": [{"ts_us": "desc"}, {"event_id": "desc"}],
            }
            hits = [h["_source"] for h in self._search(names, body)["hits"]["hits"]]
        labels = self._labels_for(model, [h["event_id"] for h in hits])
        out = []
        for h in hits:
            lab = labels.get(h["event_id"])
            flat = h.get("f") or {}
            if pred_type == NUMERIC:
                shown: Any = _decode_num(h, "prediction_num")
            else:
                shown = h.get(f"prediction_{_SUFFIX[pred_type]}")
            out.append(
                SearchHit(
                    event_id=h["event_id"],
                    version=h["version"],
                    timestamp=_from_us(int(h["ts_us"])) or datetime.min,
                    prediction=raw_text(shown),
                    label=None if lab is None else str(lab.get("label_raw")),
                    features={
                        n: None if flat.get(n) is None else raw_text(_typed(flat[n], types[n]))
                        for n in types
                        if n not in RESERVED_NAMES
                    },
                )
            )
        return out

    # -- retention ------------------------------------------------------------------------------
    def apply_retention(self, days: int | None = None, *, now: datetime | None = None) -> list[str]:
        """Delete the daily event and invalid-value indices older than ``days`` (default the
        configured ``retention_days``); return their names. Labels are kept."""
        days = self._retention_days if days is None else days
        if days is None:
            return []
        cutoff = (utc(now or self._clock.now(), "now") - timedelta(days=days)).strftime("%Y.%m.%d")
        pattern = f"{self.namespace}-*-*-*"
        try:
            found = self.client.indices.get_alias(index=pattern, allow_no_indices=True)
        except OSNotFound:
            return []
        doomed = sorted(
            name
            for name in found
            if (day := ix.day_from_index(name)) is not None
            and day < cutoff
            and (
                name.startswith(f"{self.namespace}-events-")
                or name.startswith(f"{self.namespace}-invalid-")
            )
        )
        for chunk in _chunks(doomed, 50):
            self.client.indices.delete(index=",".join(chunk))
        return doomed

    def delete_events_before(self, before: datetime, *, batch_size: int = 10_000) -> int:
        """Delete events older than ``before`` with their labels and invalid-value markers, at
        most ``batch_size`` events per bulk request; return how many events went. Daily
        indices emptied this way stay (``apply_retention`` drops whole expired days)."""
        self._check_open()
        before_us = micros(utc(before, "before"), "before")
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        deleted = 0
        for model in self.models():
            names = self._existing("events", model, None, before_us)
            if not names:
                continue
            self._refresh_if_dirty()
            query = {
                "bool": {
                    "filter": [{"term": {"model": model}}, {"range": {"ts_us": {"lt": before_us}}}]
                }
            }
            hits = [(h["_index"], h["_id"]) for h in self._scan(names, query, False)]
            invalid = self._existing("invalid", model, None, before_us)
            labels = ix.labels_index(self.namespace, model)
            for chunk in _chunks(hits, batch_size):
                ids = [doc_id for _, doc_id in chunk]
                ops: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
                    ({"delete": {"_index": index, "_id": doc_id}}, None) for index, doc_id in chunk
                ]
                ops += [({"delete": {"_index": labels, "_id": i}}, None) for i in ids]
                if invalid:
                    marker_query = {"terms": {"event_id": ids}}
                    ops += [
                        ({"delete": {"_index": h["_index"], "_id": h["_id"]}}, None)
                        for h in self._scan(invalid, marker_query, False)
                    ]
                items = self._bulk(ops)
                self._dirty.set()
                deleted += sum(1 for item in items[: len(chunk)] if item.status == 200)
        self._refresh_if_dirty()  # gone for every reader when this returns
        return deleted

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                # What this instance wrote or deleted is searchable for the next one (another
                # process, e.g. ``keeneye retention`` after an import, reads right away).
                self._refresh_if_dirty()
            except StoreError as exc:
                _log.warning("closing the OpenSearch event log: %s; recent writes become "
                             "searchable at the index's next refresh", exc)  # fmt: skip
            finally:
                self.client.close()


@dataclass(frozen=True)
class EventStats:
    events: int
    first_event: datetime | None
    last_event: datetime | None
    labels: int
    median_label_delay_seconds: float | None
    latest_version: str | None


class _CatalogMoved(Exception):
    """Another writer changed the catalog meanwhile: reload it and type the batch again."""


def _from_us(value: float | None) -> datetime | None:
    if value is None:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value))


def _features_table(columns: Mapping[str, pa.Array], rows: int) -> pa.Table:
    del rows  # a table without columns has no rows, as the DuckDB store gives it
    return pa.table(dict(columns))


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _exact(agg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The buckets of a terms aggregation, refusing an inexact one."""
    if agg.get("sum_other_doc_count", 0) or agg.get("doc_count_error_upper_bound", 0):
        raise StoreError("an OpenSearch terms aggregation was not exact; narrow the window")
    return list(agg["buckets"])


def _reason(exc: Exception) -> str:
    if isinstance(exc, TransportError):
        return f"HTTP {exc.status_code} {exc.error}"
    return type(exc).__name__


def _typed(value: Any, kind: str) -> Any:
    """A value of ``f`` as its feature's type (NaN and ±inf are kept there as text)."""
    return float(value) if kind == NUMERIC else value


def _search_text(value: str, kind: str | None) -> str:
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


def _prediction_filter(value: str, kind: str) -> dict[str, Any]:
    if kind == NUMERIC:
        try:
            return {"term": {"prediction_num": float(value)}}
        except ValueError as exc:
            raise InputError(f"prediction {value!r} is not a number; type e.g. 0.5") from exc
    if kind == BOOLEAN:
        return {"term": {"prediction_bool": value.strip().lower() in ("true", "1", "yes")}}
    return {"term": {"prediction_str": value}}
