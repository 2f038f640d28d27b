"""A store made of two: events in one backend (OpenSearch), everything else in another.

The event log (predictions, labels, invalid values, feature types) is an
:class:`~keeneye.store.opensearch.eventlog.OpenSearchEventLog`; the registry (models, versions,
live history, baselines) and the results (analysis results, alerts) stay in a DuckDB or
PostgreSQL store. Model summaries combine both. Anything else the rest store offers (leases,
helpers of other services) is reached through it unchanged.

``open_store("opensearch://127.0.0.1:9200?rest=/var/lib/keeneye.duckdb")`` builds one.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from keeneye.store.base import EventStore
from keeneye.store.opensearch.eventlog import OpenSearchEventLog
from keeneye.store.records import (
    LabelEvent,
    ModelSummary,
    ModelVersion,
    PredictionColumns,
    PredictionEvent,
    WindowData,
    WriteReport,
)


class CompositeStore:
    """An :class:`~keeneye.store.base.EventStore`: events in ``events``, the rest in ``rest``."""

    def __init__(self, events: OpenSearchEventLog, rest: EventStore) -> None:
        self.events = events
        self.rest = rest
        self._schemas: dict[tuple[str, str], frozenset[str] | None] = {}
        self._known_versions: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        events._schema_of = self._schema_of

    def _schema_of(self, model: str, version: str) -> frozenset[str] | None:
        key = (model, version)
        if key not in self._schemas:
            table = self.rest.load_baseline(model, version)
            self._schemas[key] = None if table is None else frozenset(table.column_names)
        return self._schemas[key]

    def _note_versions(self, model: str, versions: set[str], at: datetime) -> None:
        """Versions first seen in events join the registry (as the one-file stores do)."""
        fresh = {v for v in versions if (model, v) not in self._known_versions}
        if not fresh:
            return
        with self._lock:
            try:
                registered = {v.version for v in self.rest.versions(model)}
            except LookupError:
                registered = set()
            for version in sorted(fresh - registered):
                self.rest.register_version(ModelVersion(model, version, registered_at=at))
            self._known_versions |= {(model, v) for v in fresh}

    # -- events ---------------------------------------------------------------------------------
    def write_predictions(self, model: str, events: Sequence[PredictionEvent]) -> WriteReport:
        report = self.events.write_predictions(model, events)
        if events:
            self._note_versions(
                model, set(PredictionColumns.of(events).versions), self.events._clock.now()
            )
        return report

    def write_labels(self, model: str, labels: Sequence[LabelEvent]) -> WriteReport:
        return self.events.write_labels(model, labels)

    def read_window(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        features: Sequence[str] | None = None,
    ) -> WindowData:
        return self.events.read_window(model, start, end, version=version, features=features)

    def count_events(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        bucket_seconds: int | None = None,
    ) -> pa.Table:
        return self.events.count_events(
            model, start, end, version=version, bucket_seconds=bucket_seconds
        )

    def count_labelled(
        self, model: str, start: datetime, end: datetime, *, bucket_seconds: int
    ) -> pa.Table:
        return self.events.count_labelled(model, start, end, bucket_seconds=bucket_seconds)

    def invalid_value_counts(
        self, model: str, start: datetime, end: datetime, *, version: str | None = None
    ) -> Mapping[str, Mapping[str, int]]:
        return self.events.invalid_value_counts(model, start, end, version=version)

    def invalid_value_counts_by_window(
        self, model: str, windows: Sequence[tuple[datetime, datetime]]
    ) -> list[dict[str, dict[str, dict[str, int]]]]:
        return self.events.invalid_value_counts_by_window(model, windows)

    def feature_types(self, model: str) -> Mapping[str, str]:
        return self.events.feature_types(model)

    def schema_changes(self, model: str) -> pa.Table:
        return self.events.schema_changes(model)

    def delete_events_before(self, before: datetime, *, batch_size: int = 10_000) -> int:
        return self.events.delete_events_before(before, batch_size=batch_size)

    # -- registry pieces that need the events ---------------------------------------------------
    def save_baseline(self, model: str, version: str, table: pa.Table) -> None:
        self.rest.save_baseline(model, version, table)
        self._schemas.pop((model, version), None)

    def model_summary(self, model: str) -> ModelSummary:
        """The registry's versions and live version with the event log's counts."""
        base = self.rest.model_summary(model)
        stats = self.events.event_stats(model)
        return ModelSummary(
            model=model,
            versions=base.versions,
            live_version=base.live_version or stats.latest_version,
            events=stats.events,
            labels=stats.labels,
            first_event=stats.first_event,
            last_event=stats.last_event,
            label_coverage=stats.labels / stats.events if stats.events else None,
            median_label_delay_seconds=stats.median_label_delay_seconds,
        )

    def list_models(self) -> list[ModelSummary]:
        return [self.model_summary(m.model) for m in self.rest.list_models()]

    def close(self) -> None:
        try:
            self.events.close()
        finally:
            self.rest.close()

    def __getattr__(self, name: str) -> Any:
        # Registry, baselines, results, alerts, leases: the rest store's own methods.
        if name in ("events", "rest"):
            raise AttributeError(name)
        return getattr(self.rest, name)

    def __enter__(self) -> CompositeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CompositeStore(events={self.events.namespace!r}, rest={self.rest!r})"
