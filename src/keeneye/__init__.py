"""keeneye: keep an eye on machine-learning models in production."""

from __future__ import annotations

from keeneye.errors import KeeneyeError
from keeneye.schema import FeatureKind

__version__ = "0.1.0"

__all__ = ["FeatureKind", "KeeneyeError", "__version__"]
