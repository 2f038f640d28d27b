"""keeneye: keep an eye on machine-learning models in production."""

from __future__ import annotations

from keeneye.compare import compare
from keeneye.errors import KeeneyeError
from keeneye.report import DriftReport
from keeneye.schema import FeatureKind
from keeneye.sdk import Monitor

__version__ = "0.1.0"

__all__ = ["DriftReport", "FeatureKind", "KeeneyeError", "Monitor", "__version__", "compare"]
