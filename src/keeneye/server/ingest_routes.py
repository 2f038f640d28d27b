"""``POST /v1/models/{model}/predictions`` and ``…/labels``: validate, store, acknowledge.

The body is read under the size limit and parsed in the event loop's thread pool together with
the store write, so a large batch never stalls other requests. The answer is sent only after
the store's commit returned.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from keeneye.errors import NotFoundError
from keeneye.server.auth import require_token
from keeneye.server.body import read_body
from keeneye.server.codecs import FORMATS_HEADER, accepted_formats, parse_body
from keeneye.server.health import note_write_ok
from keeneye.server.ingest import check_model_name, parse_labels, parse_predictions
from keeneye.server.limits import check_labels, check_predictions, limits_of
from keeneye.server.privacy import enforce_on_labels, enforce_on_predictions
from keeneye.server.schemas import (
    ERROR_RESPONSES,
    LabelBatch,
    LabelsAck,
    PredictionBatch,
    PredictionsAck,
    body_schema,
)
from keeneye.store.base import EventStore
from keeneye.store.records import WriteReport

router = APIRouter(prefix="/v1", tags=["ingestion"], dependencies=[Depends(require_token)])


def _feature_names(store: EventStore, model: str) -> list[str]:
    try:
        return list(store.feature_types(model))
    except NotFoundError:
        return []


def _store_predictions(request: Request, model: str, body: bytes) -> WriteReport:
    state = request.app.state
    settings = state.settings.server
    now = state.clock.now()
    document = parse_body(body, request.headers.get("content-type"))
    events = parse_predictions(document, now, max_events=settings.max_batch_events)
    events = enforce_on_predictions(state.privacy.get(model), events)
    limits = limits_of(state)
    names = check_predictions(events, now, limits.ingest)
    limits.features.admit(model, names, lambda m: _feature_names(state.store, m))
    started = time.perf_counter()
    report: WriteReport = state.store.write_predictions(model, events)
    state.metrics.store_write_seconds.labels(operation="predictions").observe(
        time.perf_counter() - started
    )
    return report


def _store_labels(request: Request, model: str, body: bytes) -> WriteReport:
    state = request.app.state
    settings = state.settings.server
    now = state.clock.now()
    document = parse_body(body, request.headers.get("content-type"))
    labels = parse_labels(document, now, max_labels=settings.max_batch_events)
    labels = enforce_on_labels(state.privacy.get(model), labels)
    limits = limits_of(state)
    check_labels(labels, now, limits.ingest)
    if model not in limits.models:
        if not state.store.versions(model):
            raise NotFoundError(
                f"model {model!r} has no predictions or versions yet; send its predictions "
                "(or register a version) before its labels"
            )
        limits.models.add(model)
    started = time.perf_counter()
    report: WriteReport = state.store.write_labels(model, labels)
    state.metrics.store_write_seconds.labels(operation="labels").observe(
        time.perf_counter() - started
    )
    return report


@router.post(
    "/models/{model}/predictions",
    response_model=PredictionsAck,
    responses=ERROR_RESPONSES,
    openapi_extra=body_schema(PredictionBatch, msgpack=True),
    summary="Store a batch of prediction events",
)
async def post_predictions(model: str, request: Request, response: Response) -> dict[str, Any]:
    """Store the batch in one transaction and answer after the commit.

    The body is JSON, or the same document as MessagePack with ``Content-Type:
    application/msgpack``; the ``Keeneye-Accept-Formats`` response header lists the formats
    this collector reads.

    An ``event_id`` already stored is a duplicate (idempotent retries). Values of the wrong
    type inside ``inputs`` are stored as invalid markers and counted in ``invalid_values``.
    """
    started = time.perf_counter()
    check_model_name(model)
    body = await read_body(request, request.app.state.settings.server.max_body_bytes)
    report = await run_in_threadpool(_store_predictions, request, model, body)
    note_write_ok(request)
    metrics = request.app.state.metrics
    metrics.events.labels(model=model).inc(report.stored)
    if report.duplicates:
        metrics.duplicates.labels(model=model).inc(report.duplicates)
    for feature, count in report.invalid_values.items():
        metrics.invalid_values.labels(model=model, feature=feature).inc(count)
    metrics.ingest_seconds.labels(endpoint="predictions").observe(time.perf_counter() - started)
    response.headers[FORMATS_HEADER] = accepted_formats()
    return {
        "stored": report.stored,
        "duplicates": report.duplicates,
        "invalid_values": dict(report.invalid_values),
    }


@router.post(
    "/models/{model}/labels",
    response_model=LabelsAck,
    responses=ERROR_RESPONSES,
    openapi_extra=body_schema(LabelBatch, msgpack=True),
    summary="Store ground-truth labels",
)
async def post_labels(model: str, request: Request, response: Response) -> dict[str, Any]:
    """Join labels to predictions by ``event_id``, whenever either arrives.

    JSON or MessagePack bodies, as for predictions.

    A repeated label replaces the old one (``replaced``); a label whose prediction is not
    stored yet is kept (``pending``) and joined when the prediction arrives.
    """
    started = time.perf_counter()
    check_model_name(model)
    body = await read_body(request, request.app.state.settings.server.max_body_bytes)
    report = await run_in_threadpool(_store_labels, request, model, body)
    note_write_ok(request)
    request.app.state.metrics.labels.labels(model=model).inc(report.stored)
    request.app.state.metrics.ingest_seconds.labels(endpoint="labels").observe(
        time.perf_counter() - started
    )
    response.headers[FORMATS_HEADER] = accepted_formats()
    return {"stored": report.stored, "replaced": report.replaced, "pending": report.pending}
