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
from keeneye.modelserver.signature import COLUMN_TYPES, InputColumn, ModelInputs

log = logging.getLogger("keeneye.modelserver")

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
#: The version tag holding a model file's content hash: the same file served again without
#: ``--version`` takes the version registered for it before.
FILE_DIGEST_TAG = "file_sha256"
SKOPS_SUFFIXES = (".skops",)


@dataclass
class LoadedModel:
    """A model ready to predict, with what keeneye records about it.

    ``estimator`` has ``predict`` (a scikit-learn estimator or an MLflow pyfunc model);
    ``inputs`` is its signature (None: unknown, requests are not checked against one);
    ``metadata`` holds the provenance sent to keeneye (``model_uri``, ``mlflow_run_id``,
    ``training_data``); ``baseline`` returns the training data as a pyarrow Table, if known.
    ``version_source`` says where ``version`` came from (printed at start-up).
    """

    name: str
    version: str
    estimator: Any
    inputs: ModelInputs | None
    platform: str
    metadata: dict[str, str | None] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    baseline: Callable[[], Any] | None = None
    version_source: str = "given"

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


def load_model(
    uri: str,
    *,
    trust_pickle: bool = False,
    name: str | None = None,
    version: str | None = None,
    signature: Mapping[str, str] | None = None,
) -> LoadedModel:
    """Load ``uri`` (see the module docstring); ``name`` overrides the model's name,
    ``version`` its version (``--version``), ``signature`` the input types (feature → MLflow
    column type, e.g. ``{"age": "long", "plan": "string"}``)."""
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
    if version is not None:
        loaded.version = version
        loaded.version_source = "--version"
    if signature is not None:
        loaded.inputs = with_signature(loaded.inputs, signature)
    return loaded


def with_signature(inputs: ModelInputs | None, signature: Mapping[str, str]) -> ModelInputs:
    """``inputs`` with the types of an explicit signature (feature → MLflow column type); the
    features are the signature's when the model does not name its own."""
    unknown = sorted(t for t in signature.values() if t not in COLUMN_TYPES)
    if unknown:
        raise InputError(
            f"signature: unknown column types {unknown}; use {', '.join(sorted(COLUMN_TYPES))}"
        )
    if inputs is None or inputs.columns is None:
        return ModelInputs.from_columns([InputColumn(n, t) for n, t in signature.items()])
    names = [c.name for c in inputs.columns]
    extra = sorted(set(signature) - set(names))
    if extra:
        raise InputError(f"signature: {extra} are not inputs of the model; it takes {names}")
    return ModelInputs.from_columns(
        [InputColumn(c.name, signature.get(c.name, c.type), c.required) for c in inputs.columns]
    )


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
    digest = _file_version(path)
    return LoadedModel(
        name=path.stem,
        version=digest,
        version_source="the file's content hash (pass --version to name it)",
        estimator=estimator,
        inputs=inputs_of_estimator(estimator),
        platform=platform,
        metadata={"model_uri": str(path.resolve())},
        tags={FILE_DIGEST_TAG: digest},
    )


def inputs_of_estimator(estimator: Any) -> ModelInputs | None:
    """The inputs a fitted scikit-learn estimator knows: its ``feature_names_in_``, typed from
    what it learnt in training (:func:`training_types`), or its number of features (a tensor)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        types = training_types(estimator)
        return ModelInputs.from_columns([InputColumn(str(n), types.get(str(n))) for n in names])
    width = getattr(estimator, "n_features_in_", None)
    if isinstance(width, (int, np.integer)):
        from keeneye.modelserver.signature import TensorInput

        return ModelInputs(tensor=TensorInput("float64", int(width)))
    return None


def metadata_tags(loaded: LoadedModel) -> Mapping[str, str]:
    """Tags sent to keeneye with the version: where it came from and how it is served."""
    return {"served_by": "keeneye serve-model", "platform": loaded.platform, **loaded.tags}


def training_types(estimator: Any) -> dict[str, str]:
    """Feature → MLflow column type, as far as a fitted estimator reveals its training dtypes:
    the columns a ``ColumnTransformer`` sends to an encoder take the dtype of the categories
    it learnt (strings → ``string``); the columns it sends to numeric steps (scalers,
    imputers of a mean or median) are ``double``. Columns passed through, or sent to steps
    whose input type is unknown, are not typed (any scalar is accepted).

    >>> import pandas as pd
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> frame = pd.DataFrame({"age": [30, 40], "plan": ["a", "b"]})
    >>> ct = make_column_transformer((StandardScaler(), ["age"]), (OneHotEncoder(), ["plan"]))
    >>> training_types(ct.fit(frame))
    {'age': 'double', 'plan': 'string'}
    """
    transformer = estimator
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        transformer = steps[0][1]
    fitted = getattr(transformer, "transformers_", None)
    names = [str(n) for n in getattr(transformer, "feature_names_in_", [])]
    if not isinstance(fitted, list) or not names:
        return {}
    types: dict[str, str] = {}
    for _, step, columns in fitted:
        selected = _selected(columns, names)
        if isinstance(step, str) or not selected:  # "drop" / "passthrough"
            continue
        for i, name in enumerate(selected):
            kind = _step_type(step, i)
            if kind is not None:
                types[name] = kind
    return types


def _selected(columns: Any, names: list[str]) -> list[str]:
    """The feature names a ColumnTransformer column selection picks."""
    if isinstance(columns, str):
        return [columns]
    if isinstance(columns, slice):
        return names[columns]
    picked = list(np.asarray(columns).tolist()) if columns is not None else []
    if picked and all(isinstance(c, bool) for c in picked):
        return [n for n, keep in zip(names, picked, strict=False) if keep]
    return [names[c] if isinstance(c, int) else str(c) for c in picked]


#: numpy dtype kind → MLflow column type.
_KIND_TYPES = {"U": "string", "S": "string", "O": "string", "b": "boolean", "i": "long",
               "u": "long", "f": "double"}  # fmt: skip


def _step_type(step: Any, i: int) -> str | None:
    """The MLflow type of the ``i``-th column of one fitted ColumnTransformer step."""
    for part in [s for _, s in getattr(step, "steps", [])] or [step]:
        categories = getattr(part, "categories_", None)
        if categories is not None and i < len(categories):
            values = np.asarray(categories[i])
            if values.dtype.kind == "O" and all(isinstance(v, str) for v in values.tolist()):
                return "string"
            return _KIND_TYPES.get(values.dtype.kind) if values.dtype.kind != "O" else None
        statistics = getattr(part, "statistics_", None)
        if statistics is not None and np.asarray(statistics).dtype.kind == "O":
            return None  # an imputer of the most frequent value: strings or numbers
        if any(hasattr(part, a) for a in _NUMERIC_FITTED):
            return "double"
    return None  # e.g. a FunctionTransformer: its input type is unknown


#: Fitted attributes of scikit-learn steps that take only numbers (scalers, numeric imputers,
#: discretisers, power and quantile transforms).
_NUMERIC_FITTED = ("scale_", "center_", "data_min_", "statistics_", "bin_edges_",
                   "lambdas_", "quantiles_", "max_abs_")  # fmt: skip
