"""The event log on OpenSearch (or Elasticsearch 7, through ``opensearch-py``).

Writes: one ``_bulk`` request per batch, every event a ``create`` with the event id as ``_id``
into its UTC day's index, so a retried batch stores nothing twice. The batch is acknowledged
only when every item of the bulk response is stored (``201``) or already stored (``409``);
items that failed for a transient reason (``429``, ``5xx``) are retried alone with backoff, and
any item still failing fails the whole write with :class:`~keeneye.errors.StoreError` (HTTP
503 at the collector, retried by the SDK) — never a silent loss. Labels go to their own index
(``index`` by event id: a repeat replaces) and are joined at read time; no document is ever
updated in place and no request forces a refresh per document.

Reads: a window is one scroll in index order (:func:`~._client.scroll_pages`), each page turned
into Arrow columns in one call (:mod:`._columns`) and sorted on ``ts_us, event_id`` in Arrow;
labels are read once per window and joined in Arrow. Counts, traffic per bucket and
invalid/missing values are aggregations (exact: the terms aggregations are checked to have no
``sum_other_doc_count``). Features are typed with the same rules as every backend
(:mod:`keeneye.store._batch`); the catalog of feature types lives in one small index.

Retention: daily indices older than ``retention_days`` are deleted by :meth:`apply_retention`;
when the server has a lifecycle plugin an ISM (OpenSearch) or ILM (Elasticsearch) policy does
the same (see :mod:`.indices`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError as OSNotFound
from opensearchpy.exceptions import OpenSearchException, TransportError

from keeneye.clock import ClockLike, as_clock
from keeneye.errors import InputError, StoreError
from keeneye.store._batch import (
    TIMESTAMP,
    FeatureState,
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
    REASON_TYPE,
    REASON_UNSUPPORTED,
    RESERVED_NAMES,
    UNSUPPORTED,
    as_float,
    raw_text,
    value_type,
)
from keeneye.store.opensearch import _aggregations as counting
from keeneye.store.opensearch import _documents as docs
from keeneye.store.opensearch import indices as ix
from keeneye.store.opensearch._client import BulkItem, Op, bulk, describe, scroll_pages
from keeneye.store.opensearch._codec import (
    SUFFIX,
    decode_num,
    doc_id,
    encode_num,
    from_us,
    prediction_filter,
    search_text,
    typed,
)
from keeneye.store.opensearch._columns import events_table, join_labels, labels_table
from keeneye.store.records import LabelEvent, PredictionEvent, WindowData, WriteReport
from keeneye.store.search import SearchHit

_log = logging.getLogger(__name__)

_TERMS = 10000
_LABEL_IDS = 50_000  # event ids per terms query when a window's labels are looked up by id


def _check_model(model: str) -> None:
    if not isinstance(model, str) or not model:
        raise InputError(f"model name must be a non-empty string, got {model!r}")


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
        self._catalogs: dict[str, docs.Catalog] = {}
        self._dirty = threading.Event()
        # A new process refreshes before its first read: another writer (one that was killed,
        # say) may have acknowledged events that no refresh has made searchable yet.
        self._dirty.set()
        self._closed = False
        try:
            info = client.info()
        except OpenSearchException as exc:
            raise StoreError(f"OpenSearch is not reachable: {type(exc).__name__}") from exc
        self.server = ix.server_kind(info)
        self.distribution = self.server.distribution
        if replicas is None:
            nodes = int(client.cluster.health().get("number_of_data_nodes", 1))
            replicas = 0 if nodes <= 1 else 1
        self.replicas = replicas
        self.lifecycle_policy = self._install_policy()
        ilm = self.lifecycle_policy if self.server.lifecycle == "ilm" else None
        for name, body in ix.templates(
            namespace,
            flat_type=self.server.flat_type,
            shards=shards,
            replicas=replicas,
            ilm_policy_id=ilm,
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
        """A lifecycle policy deleting daily indices after ``retention_days`` (ISM on OpenSearch,
        ILM on Elasticsearch) when retention is set and the server has the plugin; ``None``
        otherwise (then :meth:`apply_retention` deletes expired days)."""
        if self._retention_days is None:
            return None
        policy_id = f"{self.namespace}-retention"
        if self.server.lifecycle == "ism":
            path = f"/_plugins/_ism/policies/{policy_id}"
            body = ix.ism_policy(self.namespace, self._retention_days)
        else:
            path = f"/_ilm/policy/{policy_id}"
            body = ix.ilm_policy(self._retention_days)
        try:
            self.client.transport.perform_request("PUT", path, body=body)
        except TransportError as exc:
            if exc.status_code == 409:  # already installed
                return policy_id
            _log.info(
                "no %s lifecycle plugin on the server (%s): expired days are deleted by "
                "apply_retention",
                self.server.lifecycle.upper(),
                describe(exc),
            )
            return None
        return policy_id

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the OpenSearch event log is closed")

    def _received(self) -> int:
        return micros(utc(self._clock.now(), "clock"), "clock")

    def _send(self, ops: list[Op], *, refresh: bool = False) -> list[BulkItem]:
        return bulk(
            self.client,
            ops,
            refresh=refresh,
            max_retries=self._max_retries,
            request_timeout=self._request_timeout,
        )

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
            raise StoreError(f"OpenSearch search failed: {describe(exc)}") from exc
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
            raise StoreError(f"OpenSearch index listing failed: {describe(exc)}") from exc
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
    def _load_catalog(self, model: str) -> docs.Catalog:
        body = {
            "query": {"bool": {"filter": [{"term": {"model": model}}]}},
            "size": _TERMS,
            "sort": [{"seq": "asc"}],
        }
        hits = self._search(ix.catalog_index(self.namespace), body)["hits"]["hits"]
        catalog = docs.catalog_from(hit["_source"] for hit in hits)
        return catalog

    def _catalog(self, model: str) -> docs.Catalog:
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
        catalog_ops, new_seq, new_pairs = docs.catalog_ops(
            self.namespace, model, batch, catalog, received
        )
        if catalog_ops:
            items = self._send(catalog_ops, refresh=True)
            if any(item.status == 409 for item in items[: len(batch.new_features)]):
                raise _CatalogMoved  # another writer typed a feature first: type again
        # 2. the events and their invalid-value markers, one bulk request.
        ops = docs.event_ops(
            self.namespace, model, batch.events, batch.features, batch.system, received
        )
        n_events = len(ops)
        ops += docs.invalid_ops(self.namespace, model, batch.invalid)
        items = self._send(ops)
        self._dirty.set()
        created = {
            batch.events.event_ids[i]
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
            ops: list[Op] = []
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
                    encode_num(as_float(label.label), "label_num", doc, nonfinite)
                elif kind in (CATEGORICAL, BOOLEAN):
                    doc[f"label_{SUFFIX[kind]}"] = label.label
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
                items = self._send(
                    [
                        (
                            {
                                "create": {
                                    "_index": ix.catalog_index(self.namespace),
                                    "_id": doc_id("feature", model, LABEL_KEY),
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
            items = self._send(ops)
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
        self,
        names: list[str],
        query: dict[str, Any],
        source: list[str] | bool,
        *,
        meta: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every hit of ``query`` (in index order, one scroll; ``_index``/``_id`` if ``meta``)."""
        for page in scroll_pages(self.client, names, query, source, meta=meta):
            yield from page

    def _window_labels(self, model: str, event_ids: pa.ChunkedArray, label_type: str) -> pa.Table:
        """The labels of ``event_ids`` (:func:`~._columns.labels_table`): every label of the
        model in one scroll when they are not many more than the window's events, else looked
        up by event id, 50,000 ids a query."""
        index = ix.labels_index(self.namespace, model)
        source = ["event_id", "ts_us", f"label_{SUFFIX[label_type]}", "nonfinite"]
        by_model = {"bool": {"filter": [{"term": {"model": model}}]}}
        try:
            stored = int(
                self.client.count(index=index, body={"query": by_model}, ignore_unavailable=True)[
                    "count"
                ]
            )
        except OSNotFound:
            stored = 0
        except OpenSearchException as exc:
            raise StoreError(f"OpenSearch label count failed: {describe(exc)}") from exc
        if stored == 0 or len(event_ids) == 0:
            return labels_table([], label_type)
        if stored <= 2 * len(event_ids) + _LABEL_IDS:
            return labels_table(scroll_pages(self.client, [index], by_model, source), label_type)
        ids = pc.unique(event_ids).to_pylist()

        def pages() -> Iterator[list[dict[str, Any]]]:
            for chunk in _chunks(ids, _LABEL_IDS):
                query = {
                    "bool": {"filter": [{"term": {"model": model}}, {"terms": {"event_id": chunk}}]}
                }
                yield from scroll_pages(self.client, [index], query, source)

        return labels_table(pages(), label_type)

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
        selected = {n: types[n] for n in wanted if n in types and n not in RESERVED_NAMES}
        names = self._existing("events", model, start_us, end_us)
        self._refresh_if_dirty()
        pred_type = types.get(PREDICTION_KEY, NUMERIC)
        label_type = types.get(LABEL_KEY, NUMERIC)
        pages: Iterable[list[dict[str, Any]]] = []
        if names and end_us > start_us:
            query = {"bool": {"filter": self._window_filter(model, start_us, end_us, version)}}
            # The whole _source unless few features are asked for: the server copies it as
            # stored, while picking fields means parsing every document.
            source: list[str] | bool = True
            if features is not None and len(selected) < len(stored) // 2:
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
            pages = scroll_pages(self.client, names, query, source)
        envelope, values = events_table(pages, pred_type, selected)
        labels = join_labels(
            envelope.column("event_id"),
            self._window_labels(model, envelope.column("event_id"), label_type),
        )
        events = pa.table(
            {
                "event_id": envelope.column("event_id"),
                "version": envelope.column("version"),
                "timestamp": envelope.column("ts_us").cast(TIMESTAMP),
                "prediction": envelope.column("prediction"),
                "probabilities": envelope.column("probabilities"),
                "latency_seconds": envelope.column("latency_seconds"),
                "label": labels.column("label"),
                "label_timestamp": labels.column("label_ts_us").cast(TIMESTAMP),
            }
        )
        rows = envelope.num_rows
        columns: dict[str, pa.ChunkedArray | pa.Array] = {}
        for name in wanted:
            columns[name] = values.column(name) if name in selected else pa.nulls(rows)
        return WindowData(features=pa.table(columns), events=events)

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
                rows = [(b["key"], int(b["doc_count"])) for b in counting.exact(aggs["v"])]
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
                found[index] = [
                    (b["key"], int(b["doc_count"])) for b in counting.exact(bucket["v"])
                ]
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
        window's event ids (one scroll of ids and times), grouped in Arrow."""
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
        envelope, _ = events_table(
            scroll_pages(self.client, names, query, ["event_id", "ts_us"]), NUMERIC, {}
        )
        if envelope.num_rows == 0:
            return schema.empty_table()
        state = self._load_catalog(model).states.get(LABEL_KEY)
        ids = envelope.column("event_id")
        labels = join_labels(ids, self._window_labels(model, ids, state.type if state else NUMERIC))
        step = bucket_seconds * 1_000_000
        # every ts_us >= start_us (the window filter): integer division is the floor
        bucket = pc.divide(pc.subtract(envelope.column("ts_us"), start_us), step)
        has = labels.column("label").is_valid()
        table = pa.table(
            {
                "bucket": bucket,
                "labelled": pc.cast(has, pa.int64()),
                "label_ts": pc.if_else(
                    has, labels.column("label_ts_us"), pa.scalar(None, pa.int64())
                ),
            }
        )
        grouped = table.group_by("bucket").aggregate(
            [("bucket", "count"), ("labelled", "sum"), ("label_ts", "max")]
        )
        grouped = grouped.sort_by("bucket")
        return pa.table(
            {
                "bucket_start": pc.add(pc.multiply(grouped.column("bucket"), step), start_us).cast(
                    TIMESTAMP
                ),
                "events": grouped.column("bucket_count"),
                "labels": grouped.column("labelled_sum"),
                "last_label_at": grouped.column("label_ts_max").cast(TIMESTAMP),
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
            result = self._search(
                marker_indices,
                counting.marker_counts_body(filters, ranges),
            )
            counting.add_marker_counts(result, out, by_version=by_version)
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
        result = self._search(names, counting.present_counts_body(filters, ranges))
        counting.add_missing_counts(result, out, seen, by_version=by_version)
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
                h["_source"]["event_id"]: int(h["_source"]["ts_us"])
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
            first_event=from_us(first),
            last_event=from_us(last),
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
            filters.append({"term": {f"f.{feature}": search_text(value, types.get(feature))}})
        pred_type = types.get(PREDICTION_KEY, NUMERIC)
        if prediction is not None:
            filters.append(prediction_filter(prediction, pred_type))
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
                shown: Any = decode_num(h, "prediction_num")
            else:
                shown = h.get(f"prediction_{SUFFIX[pred_type]}")
            out.append(
                SearchHit(
                    event_id=h["event_id"],
                    version=h["version"],
                    timestamp=from_us(int(h["ts_us"])) or datetime.min,
                    prediction=raw_text(shown),
                    label=None if lab is None else str(lab.get("label_raw")),
                    features={
                        n: None if flat.get(n) is None else raw_text(typed(flat[n], types[n]))
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
            hits = [(h["_index"], h["_id"]) for h in self._scan(names, query, False, meta=True)]
            invalid = self._existing("invalid", model, None, before_us)
            labels = ix.labels_index(self.namespace, model)
            for chunk in _chunks(hits, batch_size):
                ids = [doc_id for _, doc_id in chunk]
                ops: list[Op] = [
                    ({"delete": {"_index": index, "_id": doc_id}}, None) for index, doc_id in chunk
                ]
                ops += [({"delete": {"_index": labels, "_id": i}}, None) for i in ids]
                if invalid:
                    marker_query = {"terms": {"event_id": ids}}
                    ops += [
                        ({"delete": {"_index": h["_index"], "_id": h["_id"]}}, None)
                        for h in self._scan(invalid, marker_query, False, meta=True)
                    ]
                items = self._send(ops)
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


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
