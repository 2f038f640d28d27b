"""``/v1/models``: register versions, list models, one model's state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from keeneye.baseline.resolve import choose_baseline
from keeneye.config import AnalysisSettings
from keeneye.server.auth import require_token
from keeneye.server.body import parse_json, read_body
from keeneye.server.errors import ApiError, validation_details
from keeneye.server.ingest import check_model_name
from keeneye.server.schemas import (
    ERROR_RESPONSES,
    ModelDetailOut,
    ModelsOut,
    VersionIn,
    VersionOut,
    body_schema,
)
from keeneye.store.base import EventStore
from keeneye.store.records import ModelSummary, ModelVersion

router = APIRouter(prefix="/v1", tags=["models"], dependencies=[Depends(require_token)])
public = APIRouter(prefix="/v1", tags=["health"])

# ``/v1/health`` and friends live in :mod:`keeneye.server.health`.


def _summary(summary: ModelSummary) -> dict[str, Any]:
    return {
        "model": summary.model,
        "versions": list(summary.versions),
        "live_version": summary.live_version,
        "events": summary.events,
        "labels": summary.labels,
        "label_coverage": summary.label_coverage,
        "median_label_delay_seconds": summary.median_label_delay_seconds,
        "first_event": summary.first_event,
        "last_event": summary.last_event,
    }


def _version(version: ModelVersion, live: str | None) -> dict[str, Any]:
    return {
        "model": version.model,
        "version": version.version,
        "registered_at": version.registered_at,
        "model_uri": version.model_uri,
        "mlflow_run_id": version.mlflow_run_id,
        "training_data": version.training_data,
        "git_sha": version.git_sha,
        "tags": dict(version.tags),
        "live": version.version == live,
    }


def _register(request: Request, model: str, body: bytes) -> dict[str, Any]:
    payload = parse_json(body)
    try:
        spec = VersionIn.model_validate(payload)
    except ValidationError as exc:
        message, details = validation_details(list(exc.errors()))
        raise ApiError(400, "invalid_request", message, details) from exc
    store: EventStore = request.app.state.store
    store.register_version(
        ModelVersion(
            model=model,
            version=spec.version,
            registered_at=request.app.state.clock.now(),
            model_uri=spec.model_uri,
            mlflow_run_id=spec.mlflow_run_id,
            training_data=spec.training_data,
            git_sha=spec.git_sha,
            tags=spec.tags,
        ),
        live=spec.live,
    )
    live = store.model_summary(model).live_version
    stored = next(v for v in store.versions(model) if v.version == spec.version)
    return _version(stored, live)


@router.post(
    "/models/{model}/versions",
    status_code=201,
    response_model=VersionOut,
    responses=ERROR_RESPONSES,
    openapi_extra=body_schema(VersionIn),
    summary="Register a model version",
)
async def post_version(model: str, request: Request) -> dict[str, Any]:
    """Add or update a version's metadata; ``"live": true`` makes it the live version now."""
    check_model_name(model)
    body = await read_body(request, request.app.state.settings.server.max_body_bytes)
    return await run_in_threadpool(_register, request, model, body)


@router.get("/models", response_model=ModelsOut, responses=ERROR_RESPONSES, summary="All models")
def get_models(request: Request) -> dict[str, Any]:
    """Every model with its versions, live version, events, labels and label coverage."""
    store: EventStore = request.app.state.store
    return {"models": [_summary(s) for s in store.list_models()]}


@router.get(
    "/models/{model}",
    response_model=ModelDetailOut,
    responses=ERROR_RESPONSES,
    summary="One model",
)
def get_model(model: str, request: Request) -> dict[str, Any]:
    """The model's summary, its versions' metadata and the history of its live version."""
    check_model_name(model)
    store: EventStore = request.app.state.store
    summary = store.model_summary(model)
    out = _summary(summary)
    out["version_details"] = [_version(v, summary.live_version) for v in store.versions(model)]
    out["version_history"] = [
        {"version": c.version, "live_since": c.live_since, "previous_version": c.previous_version}
        for c in store.version_history(model)
    ]
    out["drift_references"] = [
        _reference(store, model, v.version, request.app.state.settings.analysis)
        for v in store.versions(model)
    ]
    return out


def _reference(
    store: EventStore, model: str, version: str, settings: AnalysisSettings
) -> dict[str, Any]:
    choice = choose_baseline(store, model, version, settings)
    if choice is None:
        return {
            "version": version,
            "reference": "none",
            "baseline_version": None,
            "reason": "no baseline is registered for this version or the live one",
        }
    return {
        "version": version,
        "reference": choice.kind,
        "baseline_version": choice.version,
        "reason": choice.reason,
    }
