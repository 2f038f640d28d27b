"""MLflow as the source of model versions: resolve a model URI to its registered version, run,
signature and training dataset; load the model; watch an alias for promotions and rollbacks.

Needs ``pip install 'keeneye[mlflow]'``; the tracking server comes from ``MLFLOW_TRACKING_URI``
as usual for MLflow.

>>> parse_model_uri("models:/churn@champion")
ModelRef(name='churn', version=None, alias='champion')
>>> parse_model_uri("models:/churn/3")
ModelRef(name='churn', version='3', alias=None)
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from keeneye.errors import InputError, KeeneyeError, require

if TYPE_CHECKING:
    import pyarrow as pa

    from keeneye.modelserver.loading import LoadedModel

log = logging.getLogger("keeneye.integrations.mlflow")


class ModelRef(NamedTuple):
    """A ``models:/`` URI taken apart: a registered model and a version or an alias."""

    name: str
    version: str | None
    alias: str | None


def parse_model_uri(uri: str) -> ModelRef:
    """Split ``models:/name/3`` or ``models:/name@alias``; other forms are refused.

    >>> parse_model_uri("models:/churn/latest")
    Traceback (most recent call last):
    ...
    keeneye.errors.InputError: model URI 'models:/churn/latest': ...
    """
    if not uri.startswith("models:/"):
        raise InputError(f"model URI {uri!r} does not start with models:/")
    rest = uri[len("models:/") :].strip("/")
    if "@" in rest:
        name, _, alias = rest.partition("@")
        if name and alias and "/" not in alias:
            return ModelRef(name, None, alias)
    else:
        name, _, version = rest.partition("/")
        if name and version.isdigit():
            return ModelRef(name, version, None)
    raise InputError(
        f"model URI {uri!r}: use models:/NAME/VERSION (a number) or models:/NAME@ALIAS"
    )


def _mlflow() -> Any:
    return require("mlflow", "mlflow")


def _client() -> Any:
    return _mlflow().MlflowClient()


@dataclass(frozen=True)
class ResolvedVersion:
    """A registered model version found through a ``models:/`` URI."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    pinned_uri: str


def resolve(uri: str, client: Any = None) -> ResolvedVersion:
    """The registered version ``uri`` points at now (an alias is resolved once, here)."""
    ref = parse_model_uri(uri)
    client = client or _client()
    mlflow = _mlflow()
    try:
        if ref.alias is not None:
            mv = client.get_model_version_by_alias(ref.name, ref.alias)
        else:
            mv = client.get_model_version(ref.name, ref.version)
    except mlflow.exceptions.MlflowException as exc:
        raise InputError(f"MLflow cannot resolve {uri}: {exc.message}") from exc
    version = str(mv.version)
    return ResolvedVersion(
        name=ref.name,
        version=version,
        alias=ref.alias,
        run_id=mv.run_id or None,
        pinned_uri=f"models:/{ref.name}/{version}",
    )


@dataclass(frozen=True)
class TrainingDataset:
    """A dataset logged as an input of a run (``mlflow.log_input``)."""

    name: str
    digest: str
    source_type: str
    source: str
    context: str | None

    @property
    def reference(self) -> str:
        """How keeneye records it as a version's ``training_data``."""
        return f"mlflow-dataset:{self.name}@{self.digest} ({self.source_type} {self.source})"


def training_dataset(run_id: str, client: Any = None) -> tuple[TrainingDataset, Any] | None:
    """The run's training dataset (context ``training`` first, else the first logged one) and
    MLflow's input entity for it, or None when the run logged no dataset."""
    client = client or _client()
    inputs = client.get_run(run_id).inputs
    candidates = list(getattr(inputs, "dataset_inputs", None) or [])
    if not candidates:
        return None

    def context(di: Any) -> str | None:
        return next((t.value for t in di.tags if t.key == "mlflow.data.context"), None)

    chosen = next((di for di in candidates if context(di) == "training"), candidates[0])
    ds = chosen.dataset
    try:
        source = json.loads(ds.source).get("uri", ds.source)
    except (ValueError, AttributeError):
        source = str(ds.source)
    found = TrainingDataset(ds.name, ds.digest, ds.source_type, str(source), context(chosen))
    return found, chosen


@dataclass(frozen=True)
class RunDetails:
    """What a version's lineage shows of its MLflow run."""

    run_id: str
    experiment_id: str
    status: str
    start_time: datetime | None
    params: dict[str, str]
    metrics: dict[str, float]
    git_commit: str | None
    source: str | None
    datasets: tuple[TrainingDataset, ...]


def run_details(run_id: str, client: Any = None) -> RunDetails:
    """The run's parameters, latest metrics, git commit (``mlflow.source.git.commit``),
    source and logged datasets; raises :class:`~keeneye.errors.InputError` when MLflow does
    not know the run."""
    client = client or _client()
    mlflow = _mlflow()
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException as exc:
        raise InputError(f"MLflow has no run {run_id!r}: {exc.message}") from exc
    tags = dict(run.data.tags)
    datasets = []
    for di in getattr(run.inputs, "dataset_inputs", None) or []:
        ds = di.dataset
        context = next((t.value for t in di.tags if t.key == "mlflow.data.context"), None)
        try:
            where = json.loads(ds.source).get("uri", ds.source)
        except (ValueError, AttributeError):
            where = str(ds.source)
        datasets.append(TrainingDataset(ds.name, ds.digest, ds.source_type, str(where), context))
    started = run.info.start_time
    return RunDetails(
        run_id=run_id,
        experiment_id=str(run.info.experiment_id),
        status=str(run.info.status),
        start_time=None if started is None else datetime.fromtimestamp(started / 1000, UTC),
        params={str(k): str(v) for k, v in run.data.params.items()},
        metrics={str(k): float(v) for k, v in run.data.metrics.items()},
        git_commit=tags.get("mlflow.source.git.commit"),
        source=tags.get("mlflow.source.name"),
        datasets=tuple(datasets),
    )


def load_training_table(dataset_input: Any, dataset: TrainingDataset) -> pa.Table | None:
    """Read a logged dataset's data through its MLflow source (local file, artifact, HTTP…);
    None (with a warning) when the source holds no readable table."""
    from keeneye.tables import load_table

    mlflow = _mlflow()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLflow's own deprecation notices
            local = mlflow.data.get_source(dataset_input).load()
        return load_table(str(local), role="training").table
    except (KeeneyeError, mlflow.exceptions.MlflowException, OSError, NotImplementedError) as exc:
        log.warning(
            "training dataset %s: no baseline from its source %s: %s",
            dataset.name,
            dataset.source,
            exc,
        )
        return None


def load(uri: str, client: Any = None) -> LoadedModel:
    """Load an MLflow model (``models:/``, ``runs:/`` or a local folder) with its provenance."""
    from keeneye.modelserver.loading import LoadedModel, inputs_of_estimator
    from keeneye.modelserver.signature import ModelInputs

    mlflow = _mlflow()
    name: str
    version: str
    run_id: str | None = None
    tags: dict[str, str] = {}
    load_uri = uri
    if uri.startswith("models:/"):
        parse_model_uri(uri)  # a malformed URI is refused before any connection
        client = client or _client()
        resolved = resolve(uri, client)
        name, version, run_id, load_uri = (
            resolved.name,
            resolved.version,
            resolved.run_id,
            resolved.pinned_uri,
        )
        tags = {"mlflow_model": name, "mlflow_version": version}
        if resolved.alias:
            tags["mlflow_alias"] = resolved.alias
    elif uri.startswith("runs:/"):
        run_id = uri[len("runs:/") :].split("/", 1)[0]
        name = uri.rstrip("/").rsplit("/", 1)[-1] or "model"
        version = run_id
    else:
        name = Path(uri).resolve().name
        version = ""
    download = tempfile.mkdtemp(prefix="keeneye-model-")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            local = mlflow.artifacts.download_artifacts(artifact_uri=load_uri, dst_path=download)
            meta = mlflow.models.Model.load(local)
            if "sklearn" in meta.flavors:
                estimator = mlflow.sklearn.load_model(local)
                platform = "mlflow-sklearn"
            else:
                estimator = mlflow.pyfunc.load_model(local)
                platform = "mlflow-pyfunc"
    except mlflow.exceptions.MlflowException as exc:
        shutil.rmtree(download, ignore_errors=True)
        raise InputError(f"MLflow cannot load {uri}: {exc.message}") from exc
    if platform == "mlflow-sklearn":  # fully in memory now; a pyfunc model may still read files
        shutil.rmtree(download, ignore_errors=True)
    run_id = run_id or meta.run_id
    if not version:  # a local folder: its run, else the folder's model uuid
        version = run_id or str(meta.model_uuid or "local")[:12]
    signature = meta.signature
    inputs = ModelInputs.from_mlflow(signature.inputs if signature is not None else None)
    if inputs is None and platform == "mlflow-sklearn":
        inputs = inputs_of_estimator(estimator)
    if signature is not None:
        described = signature.to_dict()  # MLflow's own JSON text of the input and output schemas
        tags["signature_inputs"] = str(described.get("inputs"))
        tags["signature_outputs"] = str(described.get("outputs"))
    loaded = LoadedModel(
        name=name,
        version=version,
        version_source=(
            "the MLflow model registry"
            if uri.startswith("models:/")
            else "the MLflow run id"
            if version == run_id
            else "the MLflow model's uuid"
        ),
        estimator=estimator,
        inputs=inputs,
        platform=platform,
        metadata={
            "model_uri": uri if uri.startswith(("models:/", "runs:/")) else str(Path(uri).resolve())
        },
        tags=tags,
    )
    if uri.startswith("models:/"):
        loaded.metadata["model_uri"] = load_uri  # pinned: models:/name/3, not the alias
    if run_id:
        loaded.metadata["mlflow_run_id"] = run_id
        found = training_dataset(run_id, client)
        if found is not None:
            dataset, dataset_input = found
            loaded.metadata["training_data"] = dataset.reference
            loaded.baseline = lambda: load_training_table(dataset_input, dataset)
    return loaded


class AliasWatcher:
    """Poll ``models:/name@alias`` every ``interval`` seconds and call ``on_change(version)``
    when the alias points at another version (a new champion, or a rollback).

    ``on_change`` runs in the watcher's thread; when it raises, the change is retried at the
    next poll. ``poll()`` does one check (what the thread runs; tests may call it directly).
    """

    def __init__(
        self,
        name: str,
        alias: str,
        current_version: str,
        on_change: Callable[[str], None],
        *,
        interval: float = 30.0,
        client: Any = None,
    ) -> None:
        if not interval > 0:
            raise InputError(f"alias poll interval {interval!r} must be > 0 seconds")
        self.name = name
        self.alias = alias
        self.current_version = current_version
        self.interval = interval
        self._on_change = on_change
        self._client = client
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> bool:
        """Check the alias once; True when it moved and ``on_change`` succeeded."""
        client = self._client or _client()
        mv = client.get_model_version_by_alias(self.name, self.alias)
        version = str(mv.version)
        if version == self.current_version:
            return False
        log.info(
            "models:/%s@%s moved from version %s to %s",
            self.name,
            self.alias,
            self.current_version,
            version,
        )
        self._on_change(version)
        self.current_version = version
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception as exc:  # keep serving the current version; retry next time
                log.warning("polling models:/%s@%s failed: %s", self.name, self.alias, exc)

    def start(self) -> None:
        """Start polling in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"keeneye-alias-{self.name}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop polling (waits for a poll in progress)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(10.0, self.interval))
