"""The model being served, its monitor, and the switch to another version without a restart.

:class:`ModelServer` holds the live :class:`Deployment` (a loaded model and the keeneye
``Monitor`` of its version). ``deploy(model)`` registers the version in keeneye as live (with
its provenance and baseline), then swaps it in: requests that started before keep the old
deployment, every later one — and its events — get the new version.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from prometheus_client import CollectorRegistry, Gauge

from keeneye.errors import CollectorError, InputError
from keeneye.modelserver import registry
from keeneye.modelserver.loading import FILE_DIGEST_TAG, LoadedModel, metadata_tags
from keeneye.sdk import Monitor
from keeneye.sdk.metrics import instruments_for

log = logging.getLogger("keeneye.modelserver")

#: What an event's ``inputs`` hold: the request's features, the pipeline's pre-processed
#: features (prefixed ``PREPROCESSED_PREFIX`` when logged together), or both.
LOG_MODES = ("raw", "preprocessed", "both")
PREPROCESSED_PREFIX = "pre."


@dataclass(frozen=True)
class Prediction:
    """What one request predicted, and the ids of the events logged for it."""

    model: str
    version: str
    predictions: np.ndarray
    probabilities: np.ndarray | None
    classes: list[Any] | None
    event_ids: tuple[str, ...]


class Deployment:
    """One loaded model version and the monitor that logs its predictions."""

    def __init__(self, model: LoadedModel, monitor: Monitor, log_mode: str) -> None:
        self.model = model
        self.monitor = monitor
        self.log_mode = log_mode
        self._run = monitor.watch(self._predict, input_arg="logged", classes=model.classes)

    def _predict(self, frame: Any, logged: list[dict[str, Any]]) -> dict[str, Any]:
        predictions = self.model.predict(frame)
        return {"predictions": predictions, "probabilities": self.model.predict_proba(frame)}

    def predict(self, frame: Any) -> Prediction:
        """Predict ``frame`` (a DataFrame or 2-D array) and log one event per row."""
        logged = logged_rows(self.model, frame, self.log_mode)
        result = self._run(frame, logged)
        return Prediction(
            model=self.model.name,
            version=self.model.version,
            predictions=result["predictions"],
            probabilities=result["probabilities"],
            classes=self.model.classes,
            event_ids=self.monitor.last_event_ids(),
        )


def raw_rows(model: LoadedModel, frame: Any) -> list[dict[str, Any]]:
    """The model input as one ``{feature: value}`` record per row."""
    if hasattr(frame, "to_dict"):
        return list(frame.to_dict(orient="records"))
    names = model.inputs.names if model.inputs is not None else []
    array = np.asarray(frame)
    if len(names) != array.shape[1]:
        names = [f"x{i}" for i in range(array.shape[1])]
    return [dict(zip(names, row, strict=True)) for row in array.tolist()]


def preprocessed_rows(model: LoadedModel, frame: Any, prefix: str = "") -> list[dict[str, Any]]:
    """The pipeline's transform steps applied to ``frame``, one record per row."""
    names, values = model.preprocess(frame)
    keys = [prefix + n for n in names]
    return [dict(zip(keys, row, strict=True)) for row in values.tolist()]


def logged_rows(model: LoadedModel, frame: Any, mode: str) -> list[dict[str, Any]]:
    """The features logged for each row of ``frame`` in ``mode`` (see :data:`LOG_MODES`)."""
    if mode == "raw":
        return raw_rows(model, frame)
    if mode == "preprocessed":
        return preprocessed_rows(model, frame)
    raw = raw_rows(model, frame)
    pre = preprocessed_rows(model, frame, PREPROCESSED_PREFIX)
    return [{**r, **p} for r, p in zip(raw, pre, strict=True)]


def baseline_table(model: LoadedModel, table: Any, mode: str) -> Any:
    """The baseline keeneye compares this version's events with: the training data's model
    inputs in the same form as the logged events, plus the model's own ``prediction`` on them
    (the reference of prediction drift). Columns that are not inputs (targets) are kept only
    under the names keeneye reserves (``label``, ``target``)."""
    import pyarrow as pa

    frame = table.to_pandas()
    if model.inputs is not None and model.inputs.columns is not None:
        names = model.inputs.names
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise InputError(
                f"the training dataset lacks the model inputs {missing}; no baseline registered"
            )
        inputs = frame[names]
    else:
        inputs = frame.drop(columns=[c for c in ("label", "target") if c in frame.columns])
    rows = logged_rows(model, inputs, mode)
    out = pa.Table.from_pylist(rows)
    out = out.append_column("prediction", pa.array(model.predict(inputs).tolist()))
    for reserved in ("label", "target"):
        if reserved in frame.columns:
            out = out.append_column(reserved, pa.array(frame[reserved].tolist()))
    return out


class ModelServer:
    """The live deployment of one model name, and how versions are switched.

    Parameters
    ----------
    name:
        The model's name in keeneye and in the V2 routes.
    keeneye_url, keeneye_token:
        The collector that receives the events, versions and baselines.
    registry:
        Prometheus registry of the monitor's metrics and ``keeneye_served_model_info``.
    log_mode:
        ``raw``, ``preprocessed`` or ``both`` (see :data:`LOG_MODES`).
    monitor_options:
        Extra keyword arguments of every :class:`~keeneye.Monitor` (e.g. ``flush_interval``).
    """

    def __init__(
        self,
        name: str,
        *,
        keeneye_url: str,
        keeneye_token: str | None = None,
        registry: CollectorRegistry | None = None,
        log_mode: str = "raw",
        monitor_options: Mapping[str, Any] | None = None,
    ) -> None:
        if log_mode not in LOG_MODES:
            raise InputError(f"log mode {log_mode!r} must be one of {', '.join(LOG_MODES)}")
        self.name = name
        self.keeneye_url = keeneye_url.rstrip("/")
        self._token = keeneye_token
        self.registry = registry if registry is not None else CollectorRegistry()
        self.log_mode = log_mode
        self._monitor_options = dict(monitor_options or {})
        self._lock = threading.Lock()
        self._current: Deployment | None = None
        self._info = Gauge(
            "keeneye_served_model_info",
            "1 for the model version this server serves now, with its MLflow provenance.",
            ("model", "version", "model_uri", "mlflow_run_id", "platform"),
            registry=self.registry,
        )
        self._info_labels: tuple[str, ...] | None = None

    @property
    def current(self) -> Deployment:
        """The live deployment (raises before the first :meth:`deploy`)."""
        deployment = self._current
        if deployment is None:
            raise InputError("no model deployed yet")
        return deployment

    @property
    def ready(self) -> bool:
        return self._current is not None

    def deploy(self, model: LoadedModel) -> None:
        """Make ``model`` the live version: register it (live, with provenance and baseline) in
        keeneye, then serve it. Collector problems are logged, never fatal: serving goes on."""
        if self.log_mode != "raw" and not model.can_preprocess:
            raise InputError(
                f"--log-preprocessed {self.log_mode} needs a scikit-learn Pipeline with transform "
                f"steps; {model.name} version {model.version} is a {type(model.estimator).__name__}"
            )
        model.name = self.name
        self._version_from_registry(model)
        monitor = Monitor(
            self.name,
            model.version,
            url=self.keeneye_url,
            token=self._token,
            registry=self.registry,
            **self._monitor_options,
        )
        self._register(monitor, model)
        self._check_reference(model)
        deployment = Deployment(model, monitor, self.log_mode)
        with self._lock:
            old, self._current = self._current, deployment
        self._set_info(model, old)
        if old is not None and old is not deployment:
            # the old version's queued events still go out, without holding up this switch
            threading.Thread(target=old.monitor.close, args=(10.0,), daemon=True).start()
        log.info("serving %s version %s", self.name, model.version)

    def _version_from_registry(self, model: LoadedModel) -> None:
        """A model file without ``--version``: the version keeneye registered for the same
        file before, else its content hash — said so in a warning."""
        digest = model.tags.get(FILE_DIGEST_TAG)
        if digest is None or model.version != digest:
            return
        view = registry.fetch(self.keeneye_url, self._token, self.name)
        known = registry.version_for_tag(view, FILE_DIGEST_TAG, digest)
        if known is not None:
            model.version = known
            model.version_source = "the keeneye registry (the version registered for this file)"
            return
        log.warning(
            "serving %s version %s: the model file's content hash, not a version you named; "
            "pass --version (e.g. the version whose baseline keeneye holds%s)",
            self.name,
            model.version,
            f"; live now: {view.live_version}" if view is not None and view.live_version else "",
        )

    def _check_reference(self, model: LoadedModel) -> None:
        """Warn when the live version's drift has no baseline of its own to compare with."""
        view = registry.fetch(self.keeneye_url, self._token, self.name)
        warning = registry.reference_warning(view, self.name, model.version)
        if warning is not None:
            log.warning("%s", warning)

    def _register(self, monitor: Monitor, model: LoadedModel) -> None:
        try:
            monitor.register_version(
                live=True,
                model_uri=model.metadata.get("model_uri"),
                mlflow_run_id=model.metadata.get("mlflow_run_id"),
                training_data=model.metadata.get("training_data"),
                tags=metadata_tags(model),
            )
        except CollectorError as exc:
            log.warning("version %s not registered in keeneye: %s", model.version, exc)
            return
        if model.baseline is None:
            return
        try:
            table = model.baseline()
            if table is not None:
                self.upload_baseline(model.version, baseline_table(model, table, self.log_mode))
        except (InputError, CollectorError) as exc:
            log.warning("no baseline for version %s: %s", model.version, exc)

    def upload_baseline(self, version: str, table: Any) -> dict[str, Any]:
        """Send a baseline table to keeneye as Parquet; raises CollectorError when refused."""
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(table, sink)
        url = (
            f"{self.keeneye_url}/v1/models/{quote(self.name, safe='')}/versions/"
            f"{quote(version, safe='')}/baseline"
        )
        headers = {"Content-Type": "application/vnd.apache.parquet"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = httpx.put(url, content=sink.getvalue(), headers=headers, timeout=30.0)
        except httpx.HTTPError as exc:
            raise CollectorError(
                f"could not send the baseline to {self.keeneye_url}: {exc}"
            ) from exc
        if response.status_code >= 300:
            raise CollectorError(
                f"keeneye refused the baseline of version {version!r} "
                f"(HTTP {response.status_code}): {response.text[:300]}",
                status=response.status_code,
            )
        return dict(response.json())

    def _set_info(self, model: LoadedModel, old: Deployment | None) -> None:
        labels = (
            self.name,
            model.version,
            model.metadata.get("model_uri") or "",
            model.metadata.get("mlflow_run_id") or "",
            model.platform,
        )
        if self._info_labels is not None and self._info_labels != labels:
            self._info.remove(*self._info_labels)
        self._info.labels(*labels).set(1)
        self._info_labels = labels
        if old is not None and old.model.version != model.version:
            # keeneye_model_info is 1 only for the live version
            instruments_for(self.registry).model_info.labels(self.name, old.model.version).set(0)
        instruments_for(self.registry).model_info.labels(self.name, model.version).set(1)

    def close(self, timeout: float = 5.0) -> None:
        """Flush and stop the live monitor."""
        deployment = self._current
        if deployment is not None:
            deployment.monitor.close(timeout)
