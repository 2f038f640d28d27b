"""``keeneye serve-model``: serve a scikit-learn or MLflow model over the Open Inference
Protocol (V2) and ``/predict``, with every prediction logged to keeneye."""

from __future__ import annotations

from keeneye.modelserver.app import create_app
from keeneye.modelserver.loading import LoadedModel, load_model
from keeneye.modelserver.serving import LOG_MODES, ModelServer

__all__ = ["LOG_MODES", "LoadedModel", "ModelServer", "create_app", "load_model"]
