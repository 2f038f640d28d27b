"""The prediction-logging SDK: :class:`Monitor` and what ships its events."""

from __future__ import annotations

from keeneye.sdk.asgi import CapturedRequest, CapturedResponse, Extracted, KeeneyeMiddleware
from keeneye.sdk.metrics import DROP_REASONS
from keeneye.sdk.monitor import Monitor

__all__ = [
    "DROP_REASONS",
    "CapturedRequest",
    "CapturedResponse",
    "Extracted",
    "KeeneyeMiddleware",
    "Monitor",
]
