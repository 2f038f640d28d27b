"""Pydantic models of the API bodies: they document the contract in ``/openapi.json``.

Ingestion bodies are validated by :mod:`keeneye.server.ingest` for speed and exact messages;
these models describe the same shapes (a test checks the two agree on required fields).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Scalar = float | int | str | bool | None


class PredictionEventIn(BaseModel):
    """One prediction. ``inputs`` values are kept exactly as sent (wrong types are counted)."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(description="Unique id (the SDK sends a uuid4 hex); repeats are ignored.")
    version: str | None = Field(None, description="Model version; defaults to the batch's.")
    timestamp: str | float | None = Field(
        None, description="ISO 8601 with offset, or epoch seconds; missing → receive time."
    )
    inputs: dict[str, Any] = Field(description="Feature name → value (NaN/Infinity allowed).")
    prediction: Scalar = Field(None, description="Number, string, boolean or null.")
    probabilities: dict[str, float] | list[float] | None = Field(
        None, description="Class → probability, or a list, or null."
    )
    latency_seconds: float | None = Field(None, description="Time the model took, if known.")


class PredictionBatch(BaseModel):
    """Body of ``POST /v1/models/{model}/predictions``."""

    model_config = ConfigDict(extra="forbid")

    version: str | None = Field(None, description="Default version of events without one.")
    events: list[PredictionEventIn]


class PredictionsAck(BaseModel):
    """Sent only after the batch is durably committed."""

    stored: int
    duplicates: int
    invalid_values: dict[str, int] = Field(description="Feature → values stored as invalid.")


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(description="The prediction's event id (it may not be stored yet).")
    label: float | int | str | bool = Field(description="The ground truth.")
    timestamp: str | float | None = Field(None, description="When the truth became known.")


class LabelBatch(BaseModel):
    """Body of ``POST /v1/models/{model}/labels``."""

    model_config = ConfigDict(extra="forbid")

    labels: list[LabelIn]


class LabelsAck(BaseModel):
    stored: int
    replaced: int = Field(description="Labels that replaced an earlier label of the same event.")
    pending: int = Field(description="Labels whose prediction has not arrived yet.")


class VersionIn(BaseModel):
    """Body of ``POST /v1/models/{model}/versions``."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), strict=True)

    version: str = Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
    model_uri: str | None = None
    mlflow_run_id: str | None = None
    training_data: str | None = Field(None, description="e.g. a DVC revision or Feast service.")
    git_sha: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    live: bool = Field(False, description="Also make this the live version from now on.")


class VersionOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model: str
    version: str
    registered_at: datetime
    model_uri: str | None
    mlflow_run_id: str | None
    training_data: str | None
    git_sha: str | None
    tags: dict[str, str]
    live: bool


class VersionChangeOut(BaseModel):
    version: str
    live_since: datetime
    previous_version: str | None


class ModelSummaryOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model: str
    versions: list[str]
    live_version: str | None
    events: int
    labels: int
    label_coverage: float | None
    median_label_delay_seconds: float | None
    first_event: datetime | None
    last_event: datetime | None


class ModelsOut(BaseModel):
    models: list[ModelSummaryOut]


class DriftReferenceOut(BaseModel):
    """What the drift of one version's windows is compared with (analysis.baseline_versions,
    the version's own baseline, else the live version's)."""

    version: str
    reference: str = Field(
        description="baseline (a version's training data), rolling (the same window a week "
        "earlier) or none (drift is not computed)."
    )
    baseline_version: str | None = Field(
        description="The version whose baseline is the reference (with reference=baseline)."
    )
    reason: str = Field(description="Why this reference (or why none).")


class ModelDetailOut(ModelSummaryOut):
    version_details: list[VersionOut]
    version_history: list[VersionChangeOut]
    drift_references: list[DriftReferenceOut]


class ResultOut(BaseModel):
    """One stored analysis result (a report of one kind for one window and version)."""

    version: str = Field(description="Model version ('*' for model-level results).")
    kind: str = Field(description="traffic, summary, performance or drift.")
    window: str | None = Field(description="Window size: hourly, daily, weekly or monthly.")
    window_start: datetime
    window_end: datetime
    computed_at: datetime
    payload: dict[str, Any] = Field(description="The report (keeneye.profile.Report as JSON).")


class ResultsOut(BaseModel):
    """A page of results, oldest window first."""

    model: str
    results: list[ResultOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class AlertRecordOut(BaseModel):
    """One alert state change of the history (firing, resolved, sent, failed)."""

    model_config = ConfigDict(extra="allow")

    key: str | None = Field(None, description="model/version/rule/subject")
    model: str | None = None
    version: str | None = None
    rule: str | None = None
    subject: str | None = None
    severity: str | None = Field(None, description="warning or critical")
    status: str | None = Field(None, description="firing, resolved, sent or failed")
    at: str | None = Field(None, description="When the state changed (ISO 8601).")
    summary: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    value: float | None = None
    threshold: float | None = None
    details: Any = None
    notification: str | None = None
    channel: str | None = Field(None, description="Where it was sent (redacted URL).")
    error: str | None = None


class AlertsOut(BaseModel):
    """A page of the alert history, newest first."""

    alerts: list[AlertRecordOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class RunAlertOut(BaseModel):
    """An alert an analysis run found (or that is active after it)."""

    key: str = Field(description="model/version/rule/subject")
    rule: str
    severity: str = Field(description="warning or critical")
    summary: str
    window_start: datetime
    window_end: datetime
    value: float | None
    threshold: float | None


class RunSummaryOut(BaseModel):
    """What one analysis run computed and found."""

    ran_at: datetime
    windows: int = Field(description="Window jobs computed.")
    results: int = Field(description="Results saved.")
    alerts: list[RunAlertOut] = Field(description="Alerts the computed windows raise.")
    active: list[RunAlertOut] = Field(description="Alerts active after the run.")


class JobOut(BaseModel):
    """An analysis job started by ``POST /v1/analysis/jobs`` and its progress."""

    id: str
    state: str = Field(description="queued, running, done or failed")
    done: int = Field(description="Window jobs done so far.")
    total: int | None = Field(description="Window jobs in all (null until counted).")
    current: str = Field(description="What is being computed now.")
    since: datetime | None
    until: datetime | None
    backfill: bool
    result: RunSummaryOut | None = Field(description="Once done: what the run found.")
    error: str | None = Field(description="Once failed: why.")


class BaselineOut(BaseModel):
    """What was registered as a version's baseline."""

    model: str
    version: str
    rows: int
    columns: list[str]
    digest: str = Field(description="sha256 of the table; the same data gives the same digest.")
    registered_at: datetime


class Health(BaseModel):
    status: str
    version: str


class ErrorBody(BaseModel):
    code: str = Field(description="invalid_json, invalid_request, batch_too_large, …")
    message: str = Field(description="What is wrong and how to fix it.")
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


#: Error responses every API route documents.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in (
        (400, "invalid_json or invalid_request"),
        (401, "unauthorized: token missing"),
        (403, "forbidden: wrong token"),
        (404, "not_found"),
        (413, "batch_too_large"),
        (422, "invalid_request, or unknown_field (details.fields names them)"),
    )
}


def body_schema(model: type[BaseModel], *, msgpack: bool = False) -> dict[str, Any]:
    """``openapi_extra`` for a route that parses its body itself but documents ``model``.

    ``msgpack``: the route also reads the same document as ``application/msgpack``.
    """
    schema = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    content = {"application/json": schema}
    if msgpack:
        content["application/msgpack"] = schema
    return {"requestBody": {"required": True, "content": content}}


#: Bodies documented through :func:`body_schema`; the app adds them to the components.
DOCUMENTED_BODIES: tuple[type[BaseModel], ...] = (PredictionBatch, LabelBatch, VersionIn)
