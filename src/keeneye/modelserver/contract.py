"""What ``keeneye serve-model`` accepts and answers, written into its OpenAPI document.

FastAPI only sees ``Request`` parameters and ``dict`` returns; this adds the request bodies of
V2 infer and ``POST /predict`` (the tensor and record shapes, the live model's input names and
datatypes), the success bodies, the 4xx answers with keeneye's error envelope, the 503 of the
readiness routes and ``/metrics`` as Prometheus text. A test fuzzes a running server against it.
"""

from __future__ import annotations

from typing import Any

from keeneye.modelserver import v2
from keeneye.modelserver.loading import LoadedModel
from keeneye.modelserver.signature import ACCEPTS
from keeneye.server.schemas import ErrorEnvelope

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
_STATUS_TEXT = {
    "400": "invalid_json, invalid_request, invalid_input (the message starts with the input's "
    "name) or prediction_failed",
    "404": "not_found: another model or version than the one served",
    "405": "method_not_allowed",
    "413": "batch_too_large: the body exceeds the server's limit",
    "422": "invalid_request",
}
#: Statuses per kind of route: a body is read (POST), a model is named, or neither.
_BODY_STATUSES = ("400", "405", "413")
_NAMED_STATUSES = ("404", "405")
_JSON_KIND = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}


def _kinds_of(datatype: str) -> str:
    return _JSON_KIND[v2.DATATYPE_KINDS[datatype]]


def _tensor_schema(names: list[str] | None) -> dict[str, Any]:
    name: dict[str, Any] = {"type": "string", "minLength": 1}
    if names:
        name = {"type": "string", "enum": names}
    return {
        "type": "object",
        "required": ["name", "shape", "datatype", "data"],
        "properties": {
            "name": name,
            "shape": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "integer", "minimum": 0},
                "description": "[n] or [n, 1] per column; [n, k] for a tensor model",
            },
            "datatype": {"type": "string", "enum": sorted(v2.DATATYPE_KINDS)},
            "data": {
                "type": "array",
                "description": "row-major values, flat or nested; prod(shape) of them, each "
                "of the datatype's kind",
            },
            "parameters": {"type": "object"},
        },
    }


def _value_schema(kind: str, required: bool) -> dict[str, Any]:
    types = sorted({_JSON_KIND[k] for k in ACCEPTS[kind]})
    return {"type": types if required else [*types, "null"]}


def infer_request(model: LoadedModel | None) -> dict[str, Any]:
    """The V2 inference request for ``model`` (any model when None)."""
    inputs = model.inputs if model is not None else None
    names = [c.name for c in inputs.columns] if inputs is not None and inputs.columns else None
    outputs = [v2.PREDICT_OUTPUT] + (
        [v2.PROBA_OUTPUT] if model is not None and model.classes is not None else []
    )
    return {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"description": "echoed in the response (as a string)"},
            "parameters": {"type": "object"},
            "inputs": {"type": "array", "minItems": 1, "items": _tensor_schema(names)},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string", "enum": outputs}},
                },
            },
        },
    }


def predict_request(model: LoadedModel | None) -> dict[str, Any]:
    """``{"records": [{feature: value}, ...]}`` for ``model``'s named inputs."""
    record: dict[str, Any] = {"type": "object"}
    inputs = model.inputs if model is not None else None
    if inputs is not None and inputs.columns:
        record["properties"] = {c.name: _value_schema(c.kind, c.required) for c in inputs.columns}
        record["required"] = [c.name for c in inputs.columns if c.required]
    return {
        "type": "object",
        "required": ["records"],
        "properties": {"records": {"type": "array", "minItems": 1, "items": record}},
    }


_OUTPUT_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype", "data"],
    "properties": {
        "name": {"type": "string", "enum": [v2.PREDICT_OUTPUT, v2.PROBA_OUTPUT]},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "datatype": {"type": "string", "enum": sorted(v2.DATATYPE_KINDS)},
        "data": {"type": "array"},
        "parameters": {"type": "object"},
    },
}
_EVENT_IDS = {"type": "array", "items": {"type": "string"}}
INFER_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["model_name", "model_version", "outputs", "parameters"],
    "properties": {
        "model_name": {"type": "string"},
        "model_version": {"type": "string"},
        "id": {"type": "string"},
        "outputs": {"type": "array", "items": _OUTPUT_TENSOR},
        "parameters": {
            "type": "object",
            "required": ["event_ids"],
            "properties": {"event_ids": _EVENT_IDS},
        },
    },
}
PREDICT_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["model", "version", "predictions", "event_ids"],
    "properties": {
        "model": {"type": "string"},
        "version": {"type": "string"},
        "predictions": {"type": "array"},
        "event_ids": _EVENT_IDS,
        "classes": {"type": "array"},
        "probabilities": {"type": "array", "items": {"type": "array"}},
    },
}
READY = {"type": "object", "required": ["ready"], "properties": {"ready": {"type": "boolean"}}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _components(schema: dict[str, Any]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(envelope.pop("$defs", {}))
    schemas["ErrorEnvelope"] = envelope
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _path_parameters(operation: dict[str, Any], name: str, model: LoadedModel | None) -> None:
    """``{name}`` is the served model's name, ``{version}`` its live version (else a 404)."""
    allowed = {"name": name, "version": model.version if model is not None else None}
    for parameter in operation.get("parameters", []):
        value = allowed.get(parameter.get("name"))
        if parameter.get("in") == "path" and value is not None:
            parameter["schema"] = {"type": "string", "enum": [value]}


def refine(schema: dict[str, Any], name: str, model: LoadedModel | None) -> None:
    """Write the contract of ``model``, served as ``name``, into ``schema`` (FastAPI's
    document), in place."""
    _components(schema)
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            _path_parameters(operation, name, model)
            responses: dict[str, Any] = operation.setdefault("responses", {})
            statuses: tuple[str, ...] = ("405",)
            if method == "post":
                body = predict_request(model) if path == "/predict" else infer_request(model)
                operation["requestBody"] = {"required": True, "content": _json(body)}
                ok = PREDICT_RESPONSE if path == "/predict" else INFER_RESPONSE
                responses["200"] = {"description": "the predictions", "content": _json(ok)}
                statuses = _BODY_STATUSES + (("404",) if "{name}" in path else ())
            elif "{name}" in path:
                statuses = _NAMED_STATUSES
            if path.endswith("/ready"):
                responses["200"] = {"description": "ready", "content": _json(READY)}
                responses["503"] = {"description": "no model deployed yet", "content": _json(READY)}
            if path == "/metrics":
                responses["200"] = {
                    "description": "Prometheus text exposition",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            if "422" in responses:
                responses["422"] = {"description": _STATUS_TEXT["422"], "content": _ERROR}
            for status in statuses:
                responses[status] = {"description": _STATUS_TEXT[status], "content": _ERROR}
