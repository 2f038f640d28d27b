"""Load a model to serve: an MLflow model URI or folder, or a scikit-learn file.

* ``models:/name/3``, ``models:/name@alias``, ``runs:/<run id>/path``, a local MLflow model
  folder (with an ``MLmodel`` file): through MLflow (``pip install 'keeneye[mlflow]'``); the
  scikit-learn flavour when the model has one (probabilities, pre-processing), else pyfunc.
* ``model.skops``: scikit-learn through skops, which refuses types it does not trust.
* ``model.pkl`` / ``.pickle`` / ``.joblib``: only with ``trust_pickle=True`` — loading a pickle
  runs whatever code it contains.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from keeneye.errors import InputError, require
from keeneye.modelserver.signature import InputColumn, ModelInputs

log = logging.getLogger("keeneye.modelserver")

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
SKOPS_SUFFIXES = (".skops",)


@dataclass
class LoadedModel:
    """A model ready to predict, with what keeneye records about it.

    ``estimator`` has ``predict`` (a scikit-learn estimator or an MLflow pyfunc model);
    ``inputs`` is its signature (None: unknown, requests are not checked against one);
    ``metadata`` holds the provenance sent to keeneye (``model_uri``, ``mlflow_run_id``,
    ``training_data``); ``baseline`` returns the training data as a pyarrow Table, if known.
    """

    name: str
    version: str
    estimator: Any
    inputs: ModelInputs | None
    platform: str
    metadata: dict[str, str | None] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    baseline: Callable[[], Any] | None = None

    @property
    def classes(self) -> list[Any] | None:
        """The classes of a classifier with ``predict_proba``, as Python values."""
        classes = getattr(self.estimator, "classes_", None)
        if classes is None or not hasattr(self.estimator, "predict_proba"):
            return None
        return np.asarray(classes).tolist()

    def predict(self, frame: Any) -> np.ndarray:
        return np.asarray(self.estimator.predict(frame))

    def predict_proba(self, frame: Any) -> np.ndarray | None:
        if self.classes is None:
            return None
        return np.asarray(self.estimator.predict_proba(frame), dtype="float64")

    @property
    def can_preprocess(self) -> bool:
        """A scikit-learn Pipeline with transform steps before its final estimator."""
        steps = getattr(self.estimator, "steps", None)
        return isinstance(steps, list) and len(steps) >= 2

    def preprocess(self, frame: Any) -> tuple[list[str], np.ndarray]:
        """The pipeline's transform steps applied to ``frame``: feature names and a dense array."""
        head = self.estimator[:-1]
        values = head.transform(frame)
        if hasattr(values, "toarray"):  # a sparse matrix (one-hot encoders)
            values = values.toarray()
        values = np.asarray(values)
        try:
            names = [str(n) for n in head.get_feature_names_out()]
        except (AttributeError, ValueError, TypeError):
            names = [f"f{i}" for i in range(values.shape[1])]
        return names, values


def load_model(uri: str, *, trust_pickle: bool = False, name: str | None = None) -> LoadedModel:
    """Load ``uri`` (see the module docstring); ``name`` overrides the model's name."""
    path = Path(uri)
    if uri.startswith(("models:/", "runs:/")) or (path.is_dir() and (path / "MLmodel").exists()):
        from keeneye.integrations import mlflow as mlflow_integration

        loaded = mlflow_integration.load(uri)
    elif path.suffix.lower() in SKOPS_SUFFIXES + PICKLE_SUFFIXES:
        loaded = _load_file(path, trust_pickle)
    elif path.is_dir():
        raise InputError(
            f"{uri} is a folder without an MLmodel file; pass an MLflow model folder, "
            "an MLflow URI (models:/name@alias, runs:/…) or a .skops file"
        )
    else:
        raise InputError(
            f"cannot serve {uri!r}: pass an MLflow model URI (models:/name/3, models:/name@alias, "
            "runs:/<run id>/model), an MLflow model folder, a .skops file, or a .pkl/.joblib "
            "file with --trust-pickle"
        )
    if name is not None:
        loaded.name = name
    return loaded


def _file_version(path: Path) -> str:
    """A file model's version: the start of its content hash (the same file, the same version)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def _load_file(path: Path, trust_pickle: bool) -> LoadedModel:
    if not path.is_file():
        raise InputError(f"model file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix in SKOPS_SUFFIXES:
        sio: Any = require("skops.io", "serve")
        untrusted = sio.get_untrusted_types(file=str(path))
        if untrusted and not trust_pickle:
            raise InputError(
                f"{path} contains types skops does not trust by default: {untrusted}; "
                "review them, then pass --trust-pickle to load them"
            )
        estimator = sio.load(str(path), trusted=untrusted or None)
        platform = "sklearn-skops"
    else:
        if not trust_pickle:
            raise InputError(
                f"refusing to load {path}: loading a pickle runs any code it contains. Pass "
                "--trust-pickle if you trust its origin, or save the model with skops "
                "(skops.io.dump(model, 'model.skops')) and serve that"
            )
        import joblib

        estimator = joblib.load(path)
        platform = "sklearn-pickle"
    if not hasattr(estimator, "predict"):
        raise InputError(f"{path} holds a {type(estimator).__name__}, which has no predict()")
    return LoadedModel(
        name=path.stem,
        version=_file_version(path),
        estimator=estimator,
        inputs=inputs_of_estimator(estimator),
        platform=platform,
        metadata={"model_uri": str(path.resolve())},
    )


def inputs_of_estimator(estimator: Any) -> ModelInputs | None:
    """The inputs a fitted scikit-learn estimator knows: its ``feature_names_in_`` (types unknown)
    or its number of features (a tensor)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return ModelInputs.from_columns([InputColumn(str(n)) for n in names])
    width = getattr(estimator, "n_features_in_", None)
    if isinstance(width, (int, np.integer)):
        from keeneye.modelserver.signature import TensorInput

        return ModelInputs(tensor=TensorInput("float64", int(width)))
    return None


def metadata_tags(loaded: LoadedModel) -> Mapping[str, str]:
    """Tags sent to keeneye with the version: where it came from and how it is served."""
    return {"served_by": "keeneye serve-model", "platform": loaded.platform, **loaded.tags}
