"""What the collector enforces, written into its OpenAPI document (the contract).

FastAPI's document only knows the Python types; the checks in :mod:`keeneye.server.ingest`,
:mod:`keeneye.server.limits` and :mod:`keeneye.server.auth` are added here: the bearer
security scheme and which routes need it, model-name and version patterns, event-id and
feature-name bounds, batch sizes, plausible timestamps, the result kinds, and the error
responses every route may give. A test fuzzes the running server against this document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from keeneye.clock import utc_now
from keeneye.config import Settings
from keeneye.server.analysis_routes import RESULT_KINDS, WINDOW_SIZES
from keeneye.server.ingest import MAX_ID_LENGTH, MAX_VERSION_LENGTH, MODEL_NAME
from keeneye.server.limits import IngestLimits, plausible_range
from keeneye.store._values import RESERVED_NAMES

#: Printable text: no C0 control characters and no DEL.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
#: Paths answered without a token.
OPEN_PREFIXES = ("/v1/health",)

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
_STATUS_TEXT = {
    "400": "invalid_json or invalid_request (the message names the field and the fix)",
    "401": "unauthorized: no bearer token",
    "403": "forbidden: wrong bearer token",
    "404": "not_found",
    "405": "method_not_allowed",
    "413": "batch_too_large: server.max_batch_events or server.max_body_bytes exceeded",
    "422": "invalid_request",
    "429": "too_many_new_features: server.max_new_features_per_hour exceeded",
    "503": "store_unavailable: a storage fault; retry after the Retry-After seconds",
}


def _years_pattern(earliest: datetime, latest: datetime) -> str | None:
    """A date-time pattern admitting only whole years inside ``[earliest, latest]``."""
    years = list(range(earliest.year + 1, latest.year))
    if not years:
        return None
    return "^(" + "|".join(str(y) for y in years) + r")-"


def _timestamp(settings: Settings, now: datetime) -> dict[str, Any]:
    server = settings.server
    earliest, latest = plausible_range(now, IngestLimits.from_settings(server))
    text: dict[str, Any] = {"type": "string", "format": "date-time"}
    pattern = _years_pattern(earliest, latest)
    if pattern is not None:
        text["pattern"] = pattern
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    number = {
        "type": "number",
        "minimum": (earliest - epoch).total_seconds(),
        "maximum": (latest - epoch).total_seconds(),
    }
    return {
        "anyOf": [text, number, {"type": "null"}],
        "description": "ISO 8601 with a UTC offset, or epoch seconds; missing → receive time. "
        f"Must lie from server.max_event_age_days={server.max_event_age_days:g} before the "
        "start of today (UTC) to server.max_event_future_seconds="
        f"{server.max_event_future_seconds:g} after the end of today; strings are shown "
        "with the whole years of that range.",
    }


def _event_id() -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}


def _version(nullable: bool) -> dict[str, Any]:
    text = {"type": "string", "minLength": 1, "maxLength": MAX_VERSION_LENGTH, "pattern": PRINTABLE}
    return {"anyOf": [text, {"type": "null"}]} if nullable else text


def _bodies(components: dict[str, Any], settings: Settings, now: datetime) -> None:
    server = settings.server
    event = components.get("PredictionEventIn")
    if event is not None:
        props = event["properties"]
        props["event_id"] = {**_event_id(), "description": props["event_id"].get("description")}
        props["version"] = _version(nullable=False)
        props["timestamp"] = _timestamp(settings, now)
        props["inputs"] = {
            "type": "object",
            "maxProperties": server.max_features_per_event,
            "propertyNames": {
                "minLength": 1,
                "maxLength": server.max_name_length,
                "pattern": PRINTABLE,
                "not": {"enum": sorted(RESERVED_NAMES)},
            },
            "description": "Feature name → value, kept as sent (NaN/Infinity allowed). At most "
            f"server.max_features_per_event={server.max_features_per_event} features, names "
            f"of 1-{server.max_name_length} printable characters; a model gains at most "
            f"server.max_new_features_per_hour={server.max_new_features_per_hour} new "
            "features an hour (429 beyond).",
        }
        props["probabilities"] = {
            "anyOf": [{"type": "object"}, {"type": "array"}, {"type": "null"}],
            "description": "Class → probability, or a list, or null (kept as sent).",
        }
        props["latency_seconds"] = {
            "anyOf": [{"type": "number", "minimum": 0}, {"type": "null"}],
            "description": "Time the model took, in seconds (>= 0), if known.",
        }
    batch = components.get("PredictionBatch")
    if batch is not None:
        batch["properties"]["version"] = _version(nullable=True)
        batch["properties"]["events"]["maxItems"] = server.max_batch_events
        # every event needs a version: the batch's, or each event its own
        batch["anyOf"] = [
            {"required": ["version"], "properties": {"version": {"type": "string"}}},
            {"properties": {"events": {"items": {"required": ["version"]}}}},
        ]
        batch["description"] = (
            f"{batch.get('description', '')} At most server.max_batch_events="
            f"{server.max_batch_events} events and server.max_body_bytes="
            f"{server.max_body_bytes} bytes (413 beyond). Every event needs a version: its own "
            "or the batch's."
        ).strip()
    label = components.get("LabelIn")
    if label is not None:
        label["properties"]["event_id"] = _event_id()
        label["properties"]["timestamp"] = _timestamp(settings, now)
    labels = components.get("LabelBatch")
    if labels is not None:
        labels["properties"]["labels"]["maxItems"] = server.max_batch_events


def _parameters(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.setdefault("schema", {})
        if parameter["in"] == "path" and parameter["name"] == "model":
            schema.update({"type": "string", "pattern": MODEL_NAME.pattern})
        elif parameter["in"] == "path" and parameter["name"] == "version":
            schema.update(_version(nullable=False))
        elif parameter["in"] == "query" and parameter["name"] == "kind":
            schema.clear()
            schema.update({"anyOf": [{"enum": list(RESULT_KINDS)}, {"type": "null"}]})
        elif parameter["in"] == "query" and parameter["name"] == "window":
            schema.clear()
            schema.update({"anyOf": [{"enum": list(WINDOW_SIZES)}, {"type": "null"}]})
        elif parameter["in"] == "query" and parameter["name"] == "cursor":
            schema.clear()
            schema.update(
                {
                    "anyOf": [
                        {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "minLength": 1},
                        {"type": "null"},
                    ]
                }
            )
        elif parameter["in"] == "query" and parameter["name"] in ("start", "end"):
            schema.clear()
            schema.update({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]})
        elif parameter["in"] == "query" and parameter["name"] == "model":
            schema.clear()
            schema.update(
                {"anyOf": [{"type": "string", "pattern": MODEL_NAME.pattern}, {"type": "null"}]}
            )


def _baseline_body(operation: dict[str, Any], settings: Settings) -> None:
    operation["requestBody"] = {
        "required": True,
        "description": "The training data: Parquet (application/vnd.apache.parquet), Arrow IPC "
        "(application/vnd.apache.arrow.stream or .file) or JSON records (shown).",
        "content": {
            **{
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in (
                    "application/vnd.apache.parquet",
                    "application/vnd.apache.arrow.stream",
                    "application/vnd.apache.arrow.file",
                )
            },
            "application/json": {
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {"type": ["number", "string", "boolean", "null"]},
                    },
                }
            },
        },
    }


def refine(schema: dict[str, Any], settings: Settings, now: datetime | None = None) -> None:
    """Write the enforced rules into ``schema`` (FastAPI's document), in place."""
    moment = now or utc_now()
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The server's token (server.token, --token, --token-file or "
        "KEENEYE_SERVER__TOKEN); required on every route but /v1/health* when one is set.",
    }
    _bodies(components.setdefault("schemas", {}), settings, moment)
    protected: list[dict[str, list[str]]] = (
        [{"bearer": []}] if settings.server.token is not None else [{}, {"bearer": []}]
    )
    for path, methods in schema.get("paths", {}).items():
        open_path = path.startswith(OPEN_PREFIXES)
        for operation in methods.values():
            if path.endswith("/baseline"):
                _baseline_body(operation, settings)
            operation["security"] = [] if open_path else protected
            _parameters(operation)
            responses = operation.setdefault("responses", {})
            statuses = ["405", "503"] if open_path else list(_STATUS_TEXT)
            for status in statuses:
                if status in responses and status not in ("405", "503"):
                    continue
                responses.setdefault(
                    status, {"description": _STATUS_TEXT[status], "content": _ERROR}
                )
