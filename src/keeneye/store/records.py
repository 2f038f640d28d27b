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
