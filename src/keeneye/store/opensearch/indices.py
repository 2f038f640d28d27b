"""Index names and the index templates of the OpenSearch/Elasticsearch event log.

Per model and UTC day one events index ``<ns>-events-<model>-YYYY.MM.DD`` and one invalid-values
index ``<ns>-invalid-<model>-YYYY.MM.DD``; per model one labels index ``<ns>-labels-<model>``;
one catalog index ``<ns>-catalog`` (feature types, type changes, features per version).

>>> index_model("churn")
'churn'
>>> index_model("Churn v2")
'churn_v2-34b5d1'
>>> daily("keeneye", "events", "churn", 1_767_225_600_000_000)
'keeneye-events-churn-2026.01.01'
>>> server_kind({"version": {"distribution": "opensearch", "number": "2.19.6"}}).flat_type
'flat_object'
>>> server_kind({"version": {"number": "8.15.0", "build_flavor": "default"}}).flat_type
'flattened'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keeneye.errors import StoreError

_SAFE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def index_model(model: str) -> str:
    """The model's part of an index name: lowercase ``[a-z0-9_]``; other names get a short hash
    so that two models never share an index (the ``model`` field is filtered on as well)."""
    if _SAFE.match(model) and len(model) <= 100:
        return model
    cleaned = re.sub(r"[^a-z0-9_]+", "_", model.lower()).strip("_")[:80] or "model"
    return f"{cleaned}-{hashlib.sha1(model.encode()).hexdigest()[:6]}"


def day_of(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us // 1_000_000, tz=UTC).strftime("%Y.%m.%d")


def daily(namespace: str, kind: str, model: str, ts_us: int) -> str:
    return f"{namespace}-{kind}-{index_model(model)}-{day_of(ts_us)}"


def pattern(namespace: str, kind: str, model: str) -> str:
    return f"{namespace}-{kind}-{index_model(model)}-*"


def labels_index(namespace: str, model: str) -> str:
    return f"{namespace}-labels-{index_model(model)}"


def catalog_index(namespace: str) -> str:
    return f"{namespace}-catalog"


def day_from_index(name: str) -> str | None:
    """``YYYY.MM.DD`` at the end of a daily index name."""
    tail = name.rsplit("-", 1)[-1]
    return tail if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", tail) else None


@dataclass(frozen=True)
class ServerKind:
    """What the event log needs to know about the server it talks to."""

    distribution: str  # "opensearch" or "elasticsearch"
    version: tuple[int, int]
    flat_type: str  # the one-field mapping of every feature under ``f``
    lifecycle: str  # "ism" (OpenSearch plugin) or "ilm" (Elasticsearch)


# distribution -> (first version with the flat field type, its name, lifecycle API)
_KINDS: dict[str, tuple[tuple[int, int], str, str]] = {
    "opensearch": ((2, 7), "flat_object", "ism"),
    "elasticsearch": ((7, 3), "flattened", "ilm"),
}


def server_kind(info: Mapping[str, Any]) -> ServerKind:
    """The server's kind from its ``GET /`` answer: OpenSearch says
    ``version.distribution: opensearch``; Elasticsearch has no such field."""
    version = info.get("version") or {}
    distribution = str(version.get("distribution") or "elasticsearch")
    if distribution not in _KINDS:
        raise StoreError(
            f"unknown search server distribution {distribution!r}; keeneye's event log runs on "
            "OpenSearch 2.7+ or Elasticsearch 7.3+"
        )
    numbers = re.findall(r"\d+", str(version.get("number", "0.0")))
    found = (int(numbers[0]), int(numbers[1])) if len(numbers) >= 2 else (0, 0)
    first, flat_type, lifecycle = _KINDS[distribution]
    if found < first:
        raise StoreError(
            f"{distribution} {version.get('number')} has no {flat_type} field type; keeneye's "
            f"event log needs {distribution} {first[0]}.{first[1]} or newer"
        )
    return ServerKind(distribution, found, flat_type, lifecycle)


def ism_policy(namespace: str, days: int) -> dict[str, Any]:
    """An Index State Management policy deleting daily event and invalid-value indices
    ``days`` after their creation; it attaches itself to new indices by ``ism_template``."""
    return {
        "policy": {
            "description": "keeneye: delete event indices after the retention period",
            "default_state": "hot",
            "states": [
                {
                    "name": "hot",
                    "actions": [],
                    "transitions": [
                        {"state_name": "delete", "conditions": {"min_index_age": f"{days}d"}}
                    ],
                },
                {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
            ],
            "ism_template": [
                {
                    "index_patterns": [f"{namespace}-events-*", f"{namespace}-invalid-*"],
                    "priority": 100,
                }
            ],
        }
    }


def ilm_policy(days: int) -> dict[str, Any]:
    """An Elasticsearch Index Lifecycle Management policy deleting an index ``days`` after
    its creation (named in the daily indices' template as ``index.lifecycle.name``)."""
    return {"policy": {"phases": {"delete": {"min_age": f"{days}d", "actions": {"delete": {}}}}}}


_KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": 4096}
_LONG: dict[str, Any] = {"type": "long"}
_DOUBLE: dict[str, Any] = {"type": "double"}
_SOURCE_ONLY: dict[str, Any] = {"type": "keyword", "index": False, "doc_values": False}
_OPAQUE: dict[str, Any] = {"type": "object", "enabled": False}


def events_mapping(flat_type: str) -> dict[str, Any]:
    """Typed envelope; every feature under ``f`` (one ``flat_object``/``flattened`` field, so the
    mapping has a fixed ~20 fields whatever the number of features); ``present`` lists the
    features with a stored value (missing-value counts as an exact aggregation)."""
    return {
        "dynamic": "strict",
        "properties": {
            "model": _KEYWORD,
            "event_id": _KEYWORD,
            "version": _KEYWORD,
            "ts_us": _LONG,
            "timestamp": {"type": "date", "format": "epoch_millis"},
            "received_us": _LONG,
            "prediction_num": _DOUBLE,
            "prediction_str": _KEYWORD,
            "prediction_bool": {"type": "boolean"},
            "probabilities": _SOURCE_ONLY,
            "latency_seconds": _DOUBLE,
            "nonfinite": _OPAQUE,
            "f": {"type": flat_type},
            "present": _KEYWORD,
        },
    }


INVALID_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "model": _KEYWORD,
        "event_id": _KEYWORD,
        "feature": _KEYWORD,
        "raw": _SOURCE_ONLY,
        "reason": _KEYWORD,
        "ts_us": _LONG,
        "version": _KEYWORD,
    },
}

LABELS_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "model": _KEYWORD,
        "event_id": _KEYWORD,
        "label_num": _DOUBLE,
        "label_str": _KEYWORD,
        "label_bool": {"type": "boolean"},
        "label_raw": _SOURCE_ONLY,
        "ts_us": _LONG,
        "received_us": _LONG,
        "nonfinite": _OPAQUE,
        # Set only when the label is an invalid value (its marker lives with the label).
        "feature": _KEYWORD,
        "reason": _KEYWORD,
    },
}

CATALOG_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "kind": _KEYWORD,
        "model": _KEYWORD,
        "feature": _KEYWORD,
        "type": _KEYWORD,
        "streak_type": _KEYWORD,
        "streak": {"type": "integer"},
        "reported_type": _KEYWORD,
        "seq": _LONG,
        "version": _KEYWORD,
        "old_type": _KEYWORD,
        "new_type": _KEYWORD,
        "changed_us": _LONG,
    },
}


def templates(
    namespace: str, *, flat_type: str, shards: int, replicas: int, ilm_policy_id: str | None = None
) -> dict[str, dict[str, Any]]:
    """Composable index templates (name → body) for every index the event log writes; daily
    indices name ``ilm_policy_id`` (Elasticsearch ILM; an ISM policy attaches itself)."""
    settings: dict[str, Any] = {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        "refresh_interval": "1s",
    }
    daily_settings = dict(settings)
    if ilm_policy_id is not None:
        daily_settings["index.lifecycle.name"] = ilm_policy_id

    def body(patterns: list[str], mapping: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
        return {
            "index_patterns": patterns,
            "priority": 200,
            "template": {"settings": s, "mappings": mapping},
        }

    return {
        f"{namespace}-events": body(
            [f"{namespace}-events-*"], events_mapping(flat_type), daily_settings
        ),
        f"{namespace}-invalid": body([f"{namespace}-invalid-*"], INVALID_MAPPING, daily_settings),
        f"{namespace}-labels": body([f"{namespace}-labels-*"], LABELS_MAPPING, settings),
        f"{namespace}-catalog": body([f"{namespace}-catalog"], CATALOG_MAPPING, settings),
    }
