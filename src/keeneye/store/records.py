"""Plain records that cross the store boundary (the collector writes them, the jobs read them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any, overload

import pyarrow as pa
import pyarrow.compute as pc

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PredictionEvent:
    """One prediction: its (pre-processed) inputs, output and the model version that made it.

    ``timestamp`` is timezone-aware UTC. Feature values are kept as sent: a value of the wrong
    type is stored as an invalid marker and counted, never coerced.
    """

    event_id: str
    version: str
    timestamp: datetime
    inputs: Mapping[str, Any]
    prediction: Any
    probabilities: Mapping[str, float] | Sequence[float] | None = None
    latency_seconds: float | None = None


class PredictionColumns(Sequence[PredictionEvent]):
    """Prediction events held column by column: what the collector parses a batch into.

    A sequence of :class:`PredictionEvent` (an item is built on access), so every store
    accepts it; the store's typing of a batch reads the columns directly instead, which spares
    one object per event on the ingest path.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> batch = PredictionColumns.of([PredictionEvent("a", "1", at, {"x": 1}, 0.5)])
    >>> len(batch), batch.event_ids, batch[0].inputs
    (1, ['a'], {'x': 1})
    """

    __slots__ = (
        "_names",
        "_stamps",
        "_times",
        "event_ids",
        "inputs",
        "latencies",
        "predictions",
        "probabilities",
        "versions",
    )

    def __init__(
        self,
        *,
        event_ids: list[str],
        versions: list[str],
        timestamps: list[datetime] | pa.TimestampArray,
        inputs: list[Mapping[str, Any]],
        predictions: list[Any],
        probabilities: list[Mapping[str, float] | Sequence[float] | None],
        latencies: list[float | None],
    ) -> None:
        self.event_ids = event_ids
        self.versions = versions
        # Aware datetimes, or (from the collector) an Arrow array of UTC microseconds that is
        # turned into datetimes only if something asks for them.
        self._times: list[datetime] | None = None
        self._stamps: pa.TimestampArray | None = None
        if isinstance(timestamps, pa.Array):
            self._stamps = timestamps
        else:
            self._times = timestamps
        self.inputs = inputs
        self.predictions = predictions
        self.probabilities = probabilities
        self.latencies = latencies
        self._names: dict[Any, None] | None = None

    @property
    def timestamps(self) -> list[datetime]:
        """The events' times (aware datetimes)."""
        if self._times is None:
            assert self._stamps is not None
            micros = self._stamps.cast(pa.int64()).to_pylist()
            self._times = [_EPOCH + timedelta(microseconds=us) for us in micros]
        return self._times

    @property
    def utc_stamps(self) -> pa.TimestampArray | None:
        """The events' times as an Arrow ``timestamp[us, UTC]`` array, when built that way."""
        return self._stamps

    def time_range(self) -> tuple[datetime, datetime]:
        """The earliest and the latest time (of a non-empty batch)."""
        if self._times is None and self._stamps is not None:
            bounds = pc.min_max(self._stamps.cast(pa.int64()))
            first, last = bounds["min"].as_py(), bounds["max"].as_py()
            return _EPOCH + timedelta(microseconds=first), _EPOCH + timedelta(microseconds=last)
        return min(self.timestamps), max(self.timestamps)

    def feature_names(self) -> dict[Any, None]:
        """Every key of every event's ``inputs``, in order of first appearance (computed once:
        the columns are not meant to change after they are built)."""
        if self._names is None:
            self._names = dict.fromkeys(chain.from_iterable(self.inputs))
        return self._names

    @classmethod
    def of(cls, events: Sequence[PredictionEvent]) -> PredictionColumns:
        """``events`` as columns (the same object when it already is)."""
        if isinstance(events, PredictionColumns):
            return events
        return cls(
            event_ids=[e.event_id for e in events],
            versions=[e.version for e in events],
            timestamps=[e.timestamp for e in events],
            inputs=[e.inputs for e in events],
            predictions=[e.prediction for e in events],
            probabilities=[e.probabilities for e in events],
            latencies=[e.latency_seconds for e in events],
        )

    def take(self, rows: Sequence[int]) -> PredictionColumns:
        """The events at ``rows``, in that order."""
        return PredictionColumns(
            event_ids=[self.event_ids[i] for i in rows],
            versions=[self.versions[i] for i in rows],
            timestamps=(
                self._stamps.take(pa.array(rows, type=pa.int64()))
                if self._stamps is not None
                else [self.timestamps[i] for i in rows]
            ),
            inputs=[self.inputs[i] for i in rows],
            predictions=[self.predictions[i] for i in rows],
            probabilities=[self.probabilities[i] for i in rows],
            latencies=[self.latencies[i] for i in rows],
        )

    def __len__(self) -> int:
        return len(self.event_ids)

    @overload
    def __getitem__(self, index: int) -> PredictionEvent: ...

    @overload
    def __getitem__(self, index: slice) -> PredictionColumns: ...

    def __getitem__(self, index: int | slice) -> PredictionEvent | PredictionColumns:
        if isinstance(index, slice):
            return self.take(range(len(self))[index])
        return PredictionEvent(
            self.event_ids[index],
            self.versions[index],
            self.timestamps[index],
            self.inputs[index],
            self.predictions[index],
            self.probabilities[index],
            self.latencies[index],
        )

    def __repr__(self) -> str:
        return f"PredictionColumns({len(self)} events)"


@dataclass(frozen=True)
class LabelEvent:
    """Ground truth for one prediction, joined by ``event_id`` whenever it arrives."""

    event_id: str
    label: Any
    timestamp: datetime


@dataclass(frozen=True)
class WriteReport:
    """What a write did; returned only after the rows are durably committed."""

    stored: int
    duplicates: int = 0
    replaced: int = 0
    invalid_values: Mapping[str, int] = field(default_factory=dict)
    #: Labels stored before their prediction (joined when it arrives).
    pending: int = 0


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version and where it came from."""

    model: str
    version: str
    registered_at: datetime
    model_uri: str | None = None
    mlflow_run_id: str | None = None
    training_data: str | None = None
    git_sha: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionChange:
    """One change of the live version (deploy, promotion or rollback)."""

    model: str
    version: str
    live_since: datetime
    previous_version: str | None


@dataclass(frozen=True)
class ModelSummary:
    """A model at a glance: versions, live version, events, labels."""

    model: str
    versions: tuple[str, ...]
    live_version: str | None
    events: int
    labels: int
    first_event: datetime | None
    last_event: datetime | None
    label_coverage: float | None
    median_label_delay_seconds: float | None


@dataclass(frozen=True)
class WindowData:
    """The rows of one model in one time window, aligned row by row.

    ``features`` holds one column per feature, named as the feature (numeric features as
    float64 with NaN/inf kept as sent and nulls for missing; categorical ones as strings).
    ``events`` holds ``event_id``, ``version``, ``timestamp``, ``prediction``, ``latency_seconds``,
    ``label`` (null until it arrives) and ``label_timestamp``.
    """

    features: pa.Table
    events: pa.Table


@dataclass(frozen=True)
class StoredResult:
    """An analysis result saved per model, version and window (JSON-serialisable payload)."""

    model: str
    version: str
    kind: str
    window_start: datetime
    window_end: datetime
    computed_at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class ServiceBeat:
    """The last heartbeat of one running process (collector, statistics or drift worker)."""

    service: str
    owner: str
    beat_at: datetime
    started_at: datetime
    info: Mapping[str, Any] = field(default_factory=dict)


#: Result kinds kept in tables of their own instead of the reports table: window markers (what
#: the drift job computed a window from) and baseline registration records. Every backend
#: routes them by this table; ``load_results`` reads them back the same way.
RESULT_TABLES: dict[str, str] = {"drift_window": "window_markers", "baseline": "baseline_records"}
#: Where every other kind goes.
REPORTS_TABLE = "results"


def result_table(kind: str) -> str:
    """The table a result of ``kind`` is stored in."""
    return RESULT_TABLES.get(kind, REPORTS_TABLE)


@dataclass(frozen=True)
class DataSource:
    """Where one registered baseline of a model version came from: its lineage record.

    One is kept per registration (a version registered from two DVC revisions has two);
    ``digest`` is the digest of the table keeneye stored, so the record of the current
    baseline is the newest one whose digest matches it.
    """

    model: str
    version: str
    kind: str  # "file" | "upload" | "dvc" | "feast" | "mlflow"
    uri: str
    recorded_at: datetime
    rows: int
    columns: tuple[str, ...]
    digest: str
    #: sha256 of the file read (a file), or DVC's md5 of the output (from the .dvc file or
    #: dvc.lock at ``revision``).
    file_hash: str | None = None
    #: DVC: the revision asked for and the git commit it resolved to.
    revision: str | None = None
    commit: str | None = None
    #: Feast: the feature service, its features and the time range read.
    feature_service: str | None = None
    features: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    def to_payload(self) -> dict[str, Any]:
        """JSON-serialisable form (what the stores keep)."""
        return {
            "kind": self.kind,
            "uri": self.uri,
            "recorded_at": self.recorded_at.isoformat(),
            "rows": self.rows,
            "columns": list(self.columns),
            "digest": self.digest,
            "file_hash": self.file_hash,
            "revision": self.revision,
            "commit": self.commit,
            "feature_service": self.feature_service,
            "features": list(self.features),
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
        }

    @classmethod
    def from_payload(cls, model: str, version: str, payload: Mapping[str, Any]) -> DataSource:
        """The record back from :meth:`to_payload`'s output."""

        def when(value: Any) -> datetime | None:
            return None if value is None else datetime.fromisoformat(str(value))

        return cls(
            model=model,
            version=version,
            kind=str(payload["kind"]),
            uri=str(payload["uri"]),
            recorded_at=datetime.fromisoformat(str(payload["recorded_at"])),
            rows=int(payload["rows"]),
            columns=tuple(str(c) for c in payload.get("columns") or ()),
            digest=str(payload["digest"]),
            file_hash=payload.get("file_hash"),
            revision=payload.get("revision"),
            commit=payload.get("commit"),
            feature_service=payload.get("feature_service"),
            features=tuple(str(f) for f in payload.get("features") or ()),
            start=when(payload.get("start")),
            end=when(payload.get("end")),
        )
