"""The storage protocols, split by job, and ``EventStore``, what a full backend implements.

Statistics know nothing of storage; storage knows nothing of statistics. The collector writes
through these protocols, the analysis jobs read through them, and one conformance suite per
protocol (``tests/store/``) runs against every backend.

* :class:`EventLog` — predictions, labels, their windows and counts (the high-volume part);
* :class:`Registry` — models, versions, live-version history, baselines, fitted references
  and where each baseline came from (lineage);
* :class:`ResultStore` — analysis reports, window markers and the alert history;
* :class:`Leases` — claims on work with an expiry, so several workers share the windows;
* :class:`EventStore` — all of the above but leases, what one backend (DuckDB, PostgreSQL)
  gives: existing code keeps taking an ``EventStore``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from keeneye.store.records import (
    DataSource,
    LabelEvent,
    ModelSummary,
    ModelVersion,
    PredictionEvent,
    ServiceBeat,
    StoredResult,
    VersionChange,
    WindowData,
    WriteReport,
)


@runtime_checkable
class EventLog(Protocol):
    """Predictions and labels, their windows and counts: the high-volume part of a store.

    Writes return only after the data is committed durably (an acknowledged event survives a
    crash); an ``event_id`` is stored once whichever collector sends it, however often.
    """

    # -- events -------------------------------------------------------------------------------
    def write_predictions(self, model: str, events: Sequence[PredictionEvent]) -> WriteReport:
        """Store a batch atomically; an ``event_id`` already stored counts as a duplicate."""
        ...

    def write_labels(self, model: str, labels: Sequence[LabelEvent]) -> WriteReport:
        """Store labels; a label may arrive before its prediction; a repeat replaces the old."""
        ...

    def read_window(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        features: Sequence[str] | None = None,
    ) -> WindowData:
        """Rows with ``start <= timestamp < end`` (label joined where present)."""
        ...

    def count_events(
        self,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        bucket_seconds: int | None = None,
    ) -> pa.Table:
        """Event counts in ``[start, end)``; with ``bucket_seconds`` one row per bucket
        (columns ``bucket_start``, ``version``, ``events``), else one row per version."""
        ...

    def count_labelled(
        self, model: str, start: datetime, end: datetime, *, bucket_seconds: int
    ) -> pa.Table:
        """Per bucket aligned on ``start`` (buckets with events only): ``bucket_start``,
        ``events``, ``labels`` (joined labels that ``read_window`` gives as non-null) and
        ``last_label_at`` (their newest time) — what changes when late data lands."""
        ...

    def invalid_value_counts(
        self, model: str, start: datetime, end: datetime, *, version: str | None = None
    ) -> Mapping[str, Mapping[str, int]]:
        """``{feature: {reason: count}}`` for values stored as invalid markers in the window
        (reasons such as ``"type"``, ``"unknown_feature"``)."""
        ...

    def invalid_value_counts_by_window(
        self, model: str, windows: Sequence[tuple[datetime, datetime]]
    ) -> list[dict[str, dict[str, dict[str, int]]]]:
        """For each ``(start, end)``, ``{version: {feature: {reason: count}}}`` — for every
        version what ``invalid_value_counts(model, start, end, version=version)`` gives (versions
        without invalid values left out) — in a few queries whatever the number of windows."""
        ...

    def feature_types(self, model: str) -> Mapping[str, str]:
        """The stored type of each feature (``"numeric"`` or ``"categorical"``)."""
        ...

    def schema_changes(self, model: str) -> pa.Table:
        """Recorded type changes: ``feature``, ``old_type``, ``new_type``, ``changed_at``."""
        ...

    def delete_events_before(self, before: datetime, *, batch_size: int = 10_000) -> int:
        """Delete raw events and labels older than ``before`` in batches of at most
        ``batch_size`` rows per transaction (retention); returns how many events went."""
        ...


@runtime_checkable
class Registry(Protocol):
    """Models, versions, the live-version history, baselines and fitted references."""

    # -- models and versions ------------------------------------------------------------------
    def register_version(self, version: ModelVersion, *, live: bool = False) -> None:
        """Add or update a version's metadata; ``live=True`` also makes it the live version."""
        ...

    def set_live_version(self, model: str, version: str, at: datetime) -> None:
        """Record that ``version`` is live from ``at`` on (promotion or rollback)."""
        ...

    def list_models(self) -> list[ModelSummary]: ...

    def model_summary(self, model: str) -> ModelSummary:
        """Raises :class:`keeneye.errors.NotFoundError` for an unknown model."""
        ...

    def versions(self, model: str) -> list[ModelVersion]: ...

    def version_history(self, model: str) -> list[VersionChange]: ...

    # -- baselines ----------------------------------------------------------------------------
    def save_baseline(self, model: str, version: str, table: pa.Table) -> None:
        """Keep the training data (reference) of a model version; replaces an earlier one."""
        ...

    def load_baseline(self, model: str, version: str) -> pa.Table | None: ...

    def save_reference(self, model: str, version: str, data: bytes) -> None:
        """Keep the fitted (serialised) reference profile of a version; replaces an earlier one."""
        ...

    def load_reference(self, model: str, version: str) -> bytes | None:
        """The stored fitted reference of a version, or ``None``."""
        ...

    # -- lineage ------------------------------------------------------------------------------
    def record_data_source(self, source: DataSource) -> None:
        """Append where a registered baseline came from (kept for every registration)."""
        ...

    def data_sources(self, model: str, version: str) -> list[DataSource]:
        """The data sources recorded for a version, oldest first."""
        ...


@runtime_checkable
class ResultStore(Protocol):
    """Analysis reports, window markers and the alert history (kept by retention)."""

    # -- analysis results and alerts ----------------------------------------------------------
    def save_results(self, results: Sequence[StoredResult]) -> None:
        """Upsert by (model, version, kind, window_start, window_end)."""
        ...

    def load_results(
        self,
        model: str,
        *,
        kind: str | None = None,
        version: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        windows: Sequence[tuple[datetime, datetime]] | None = None,
    ) -> list[StoredResult]:
        """Results whose window lies in ``[start, end]``, ordered by window, kind, version;
        with ``windows``, only results of exactly these ``(window_start, window_end)``."""
        ...

    def save_alert(self, alert: Mapping[str, Any]) -> None:
        """Append one alert state change (JSON-serialisable mapping with ``model``, ``rule``,
        ``status``, ``at`` …)."""
        ...

    def list_alerts(
        self, model: str | None = None, *, limit: int = 1000
    ) -> list[dict[str, Any]]: ...


@runtime_checkable
class Leases(Protocol):
    """Claims on units of work (a window of a job) that expire unless renewed.

    Several workers of a job on one store claim before computing: a key is held by at most one
    owner at a time, and a claim by a killed worker lapses after its ``ttl_seconds``.
    """

    def claim(self, key: str, owner: str, ttl_seconds: float) -> bool:
        """Take ``key`` for ``owner`` (or extend the owner's own claim); ``False`` when another
        owner holds an unexpired claim."""
        ...

    def renew(self, key: str, owner: str, ttl_seconds: float) -> bool:
        """Extend ``owner``'s claim; ``False`` when it has lapsed and another owner took it."""
        ...

    def release(self, key: str, owner: str) -> None:
        """Give up ``owner``'s claim (nothing happens when another owner holds it)."""
        ...

    def heartbeat(self, service: str, owner: str, info: Mapping[str, Any]) -> None:
        """Record that the process ``owner`` (a ``service`` such as ``worker-drift``) is alive."""
        ...

    def services(self, within_seconds: float) -> list[ServiceBeat]:
        """The processes whose last heartbeat is at most ``within_seconds`` old."""
        ...


@runtime_checkable
class EventStore(EventLog, Registry, ResultStore, Leases, Protocol):
    """Everything one backend gives (DuckDB, PostgreSQL): the parts above on one database.

    All methods are safe to call from several threads.
    """

    def close(self) -> None: ...
