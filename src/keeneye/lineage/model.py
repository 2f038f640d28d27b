"""The typed records of a version's lineage (what the API serialises and the UI shows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from keeneye.store.records import DataSource

if TYPE_CHECKING:
    from keeneye.integrations.mlflow import RunDetails


@dataclass(frozen=True)
class LivePeriod:
    """One stretch during which the version was live: from ``since`` until it was replaced
    (``until``/``replaced_by``; ``None`` while it still is)."""

    since: datetime
    until: datetime | None
    previous_version: str | None
    replaced_by: str | None


@dataclass(frozen=True)
class AlertRaised:
    """An alert that fired for a window while the version was live (or for the version)."""

    at: datetime
    version: str
    rule: str
    subject: str
    severity: str
    summary: str
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True)
class BaselineSummary:
    """The version's baseline as stored now, and its fitted reference."""

    rows: int
    columns: tuple[str, ...]
    digest: str | None
    registered_at: datetime | None
    #: Each feature of the fitted reference with its kind (``None``: cannot be compared).
    reference_kinds: Mapping[str, str | None] = field(default_factory=dict)
    reference_rows: int | None = None


@dataclass(frozen=True)
class Lineage:
    """Everything known about where one model version came from and how it fared."""

    model: str
    version: str
    registered_at: datetime | None
    model_uri: str | None
    mlflow_run_id: str | None
    training_data: str | None
    git_sha: str | None
    tags: Mapping[str, str]
    mlflow_run: RunDetails | None
    #: Why the MLflow run is not shown although the version names one.
    mlflow_problem: str | None
    #: Every registration of a baseline for this version, oldest first.
    data_sources: tuple[DataSource, ...]
    #: The registration the stored baseline came from (the newest with its digest).
    current_source: DataSource | None
    baseline: BaselineSummary | None
    live: tuple[LivePeriod, ...]
    alerts: tuple[AlertRaised, ...]
