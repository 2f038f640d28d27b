"""The model server's HTTP app: Open Inference Protocol v2 REST, ``POST /predict``, ``/metrics``.

==========================================  ===============================================
``GET /v2/health/live``, ``/v2/health/ready``  liveness, readiness (a model is deployed)
``GET /v2``                                    server metadata
``GET /v2/models/{name}``                      model metadata: versions, inputs, outputs
``GET /v2/models/{name}/ready``                model readiness
``POST /v2/models/{name}[/versions/{v}]/infer``  V2 inference
``POST /predict``                              ``{"records": [...]}`` → ``{"predictions": ...}``
``GET /metrics``                               Prometheus exposition
==========================================  ===============================================

Errors use keeneye's envelope ``{"error": {"code", "message", "details"}}``; a bad input is a
400 ``invalid_input`` whose message starts with the input's name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from keeneye import __version__
from keeneye.modelserver import contract, v2
from keeneye.modelserver.serving import ModelServer, Prediction
from keeneye.server.body import parse_json, read_body
from keeneye.server.docs import install as install_docs
from keeneye.server.errors import ApiError, install_error_handlers

#: Requests larger than this are refused with 413 before they are read.
MAX_BODY_BYTES = 64 * 1024 * 1024


class Background(Protocol):
    """Something that runs beside the app (the MLflow alias watcher)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def create_app(
    server: ModelServer,
    *,
    background: Sequence[Background] = (),
    max_body_bytes: int = MAX_BODY_BYTES,
    close_on_shutdown: bool = True,
) -> FastAPI:
    """The FastAPI app serving ``server``'s live model; ``background`` tasks start and stop
    with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for task in background:
            task.start()
        try:
            yield
        finally:
            for task in background:
                await run_in_threadpool(task.stop)
            if close_on_shutdown:
                await run_in_threadpool(server.close)

    app = FastAPI(
        title="keeneye model server",
        version=__version__,
        description="Open Inference Protocol v2 REST with keeneye monitoring built in.",
        lifespan=lifespan,
        docs_url=None,  # served from the package's assets, not a CDN
        redoc_url=None,
    )
    app.state.server = server
    install_error_handlers(app)
    install_docs(app)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's document with the live model's contract (rebuilt: the model may change)."""
        app.openapi_schema = None
        schema = generate()
        contract.refine(schema, server.name, server.current.model if server.ready else None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

    def model_named(name: str) -> None:
        if name != server.name:
            raise ApiError(
                404, "not_found", f"model {name!r} is not served here; this server serves "
                f"{server.name!r}"
            )  # fmt: skip

    async def payload(request: Request) -> Any:
        return parse_json(await read_body(request, max_body_bytes))

    @app.get("/v2/health/live", tags=["v2"])
    def live() -> dict[str, bool]:
        return {"live": True}

    @app.get("/v2/health/ready", tags=["v2"])
    def ready() -> Response:
        return _ready_response(server.ready)

    @app.get("/v2", tags=["v2"])
    def server_metadata() -> dict[str, Any]:
        return {"name": "keeneye", "version": __version__, "extensions": []}

    @app.get("/v2/models/{name}", tags=["v2"])
    def model_metadata(name: str) -> dict[str, Any]:
        model_named(name)
        model = server.current.model
        outputs: list[dict[str, Any]] = [{"name": v2.PREDICT_OUTPUT, "shape": [-1]}]
        if model.classes is not None:
            outputs.append(
                {
                    "name": v2.PROBA_OUTPUT,
                    "datatype": "FP64",
                    "shape": [-1, len(model.classes)],
                    "parameters": {"classes": model.classes},
                }
            )
        return {
            "name": server.name,
            "versions": [model.version],
            "platform": model.platform,
            "inputs": v2.input_metadata(model.inputs),
            "outputs": outputs,
            "parameters": {k: v for k, v in model.metadata.items() if v is not None},
        }

    @app.get("/v2/models/{name}/ready", tags=["v2"])
    def model_ready(name: str) -> Response:
        model_named(name)
        return _ready_response(server.ready)

    async def infer(name: str, version: str | None, request: Request) -> dict[str, Any]:
        model_named(name)
        deployment = server.current
        if version is not None and version != deployment.model.version:
            raise ApiError(
                404,
                "not_found",
                f"version {version!r} of {name!r} is not served; the live version is "
                f"{deployment.model.version!r}",
            )
        body = await payload(request)
        decoded = v2.decode_request(body, deployment.model.inputs)
        available = [v2.PREDICT_OUTPUT] + (
            [v2.PROBA_OUTPUT] if deployment.model.classes is not None else []
        )
        for wanted in decoded.outputs or ():
            if wanted not in available:
                raise ApiError(
                    400,
                    "invalid_request",
                    f"outputs: {wanted!r} is not an output of the model; it has {available}",
                )
        result = await _predict(deployment.predict, decoded.frame)
        answer: dict[str, Any] = {
            "model_name": result.model,
            "model_version": result.version,
            "outputs": v2.encode_outputs(
                result.predictions, result.probabilities, result.classes, decoded.outputs
            ),
            "parameters": {"event_ids": list(result.event_ids)},
        }
        if decoded.request_id is not None:
            answer["id"] = decoded.request_id
        return answer

    @app.post("/v2/models/{name}/infer", tags=["v2"])
    async def infer_latest(name: str, request: Request) -> dict[str, Any]:
        return await infer(name, None, request)

    @app.post("/v2/models/{name}/versions/{version}/infer", tags=["v2"])
    async def infer_version(name: str, version: str, request: Request) -> dict[str, Any]:
        return await infer(name, version, request)

    @app.post("/predict", tags=["predict"])
    async def predict(request: Request) -> dict[str, Any]:
        """``{"records": [{feature: value}, ...]}`` → predictions (and probabilities)."""
        deployment = server.current
        body = await payload(request)
        if not isinstance(body, dict) or "records" not in body:
            raise ApiError(
                400, "invalid_request", 'request: expected {"records": [{feature: value}, ...]}'
            )
        if deployment.model.inputs is None:
            raise ApiError(
                400,
                "invalid_request",
                "this model has no signature naming its inputs; use the V2 infer endpoint",
            )
        frame = deployment.model.inputs.frame_from_records(body["records"])
        result = await _predict(deployment.predict, frame)
        answer: dict[str, Any] = {
            "model": result.model,
            "version": result.version,
            "predictions": result.predictions.tolist(),
            "event_ids": list(result.event_ids),
        }
        if result.probabilities is not None:
            answer["classes"] = result.classes
            answer["probabilities"] = result.probabilities.tolist()
        return answer

    @app.get("/metrics", tags=["metrics"])
    def metrics() -> Response:
        return Response(generate_latest(server.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _ready_response(ready: bool) -> Response:
    import json

    return Response(
        json.dumps({"ready": ready}),
        status_code=200 if ready else 503,
        media_type="application/json",
    )


async def _predict(predict: Any, frame: Any) -> Prediction:
    """Run the model in the thread pool (scikit-learn releases the GIL in its heavy parts).

    A ``ValueError``/``TypeError`` from the model (an unseen category, say) is a 400
    ``prediction_failed`` with the model's message; anything else is a 500."""
    try:
        result: Prediction = await run_in_threadpool(predict, frame)
    except (ValueError, TypeError) as exc:
        # the model rejected values the signature let through (e.g. an unseen category)
        raise ApiError(
            400, "prediction_failed", f"the model could not predict these inputs: {exc}"
        ) from exc
    return result
