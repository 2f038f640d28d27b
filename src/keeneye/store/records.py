"""Plain records that cross the store boundary (the collector writes them, the jobs read them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa


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
