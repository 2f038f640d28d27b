"""Event storage: the ``EventStore`` protocol and its backends (DuckDB is the embedded default)."""

from keeneye.store.base import EventStore
from keeneye.store.records import (
    LabelEvent,
    ModelSummary,
    ModelVersion,
    PredictionEvent,
    StoredResult,
    VersionChange,
    WindowData,
    WriteReport,
)

__all__ = [
    "EventStore",
    "LabelEvent",
    "ModelSummary",
    "ModelVersion",
    "PredictionEvent",
    "StoredResult",
    "VersionChange",
    "WindowData",
    "WriteReport",
]
