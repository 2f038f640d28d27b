"""``Monitor``: log every prediction of a model version, its metrics and its late labels.

Usage::

    from keeneye import Monitor

    monitor = Monitor(model="churn", version="3", url="http://127.0.0.1:8765")

    @monitor.watch
    def predict(record: dict) -> float:
        return model.predict_proba([list(record.values())])[0, 1]

    predict({"age": 31, "plan": "pro"})          # one event, shipped in the background
    event_id = monitor.last_event_ids()[0]       # keep it to send the label later
    monitor.log_label(event_id, 1)               # days later, from any process

The prediction path never waits for the network and never fails because of monitoring:
events go to a bounded queue that a background thread ships; when the collector is slow or
down, the queue fills and further events are dropped and counted in
``keeneye_sdk_dropped_events_total``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import random
import time
import zlib
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote

import httpx
import pyarrow as pa
from prometheus_client import REGISTRY, CollectorRegistry

from keeneye.errors import CollectorError, InputError
from keeneye.sdk import backfill, descriptors, records
from keeneye.sdk.ids import new_event_id
from keeneye.sdk.metrics import MAX_PENDING, ModelMetrics
from keeneye.sdk.transport import DeliveryCallback, Transport

if TYPE_CHECKING:
    from keeneye.privacy.policy import PrivacyPolicy

log = logging.getLogger("keeneye.sdk")

F = TypeVar("F", bound=Callable[..., Any])

TASKS = ("auto", "classification", "regression")
_SCALARS = frozenset((float, int, str, bool, type(None)))
_MISSING = object()
_VERSION_FIELDS = ("model_uri", "mlflow_run_id", "training_data", "git_sha")


class _WatchSpec:
    """What ``watch`` learned about the wrapped function, resolved once at decoration time."""

    __slots__ = (
        "classes", "feature_names", "id_key", "name", "position", "predict_proba", "simple",
    )  # fmt: skip

    def __init__(
        self,
        fn: Callable[..., Any],
        input_arg: str | None,
        feature_names: Sequence[str] | None,
        predict_proba: Callable[..., Any] | None,
        classes: Sequence[Any] | None,
        id_key: str | None,
    ) -> None:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if input_arg is None:
            if not params:
                raise InputError(
                    f"{fn.__qualname__} takes no named argument to read inputs from; "
                    "watch a function whose first argument is the model input"
                )
            chosen = (
                params[1] if params[0].name in ("self", "cls") and len(params) > 1 else params[0]
            )
        else:
            by_name = {p.name: p for p in params}
            if input_arg not in by_name:
                raise InputError(
                    f"input_arg={input_arg!r} is not a parameter of {fn.__qualname__}; "
                    f"choose one of {sorted(by_name)}"
                )
            chosen = by_name[input_arg]
        self.name = chosen.name
        self.position: int | None = (
            None if chosen.kind == chosen.KEYWORD_ONLY else params.index(chosen)
        )
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.predict_proba = predict_proba
        if classes is None and predict_proba is not None:
            # a bound scikit-learn predict_proba knows its classes
            classes = getattr(getattr(predict_proba, "__self__", None), "classes_", None)
        self.classes = list(classes) if classes is not None else None
        self.id_key = id_key
        self.simple = id_key is None and predict_proba is None  # the fast path applies

    def inputs_of(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.position is not None and len(args) > self.position:
            return args[self.position]
        return kwargs.get(self.name, _MISSING)


class Monitor:
    """Monitor one model version: Prometheus metrics in process, raw events to the collector.

    Parameters
    ----------
    model, version:
        Names of the model and of the version making these predictions.
    url, token:
        The collector (``keeneye server``) and its bearer token, if it has one.
    registry:
        The Prometheus registry of the metrics (default: prometheus_client's ``REGISTRY``).
        Monitors sharing a registry share the metric families.
    queue_size, batch_size, flush_interval:
        Events queued or being sent at most (more are dropped and counted), events per
        request, and the longest an event waits before its batch is sent (seconds).
    max_batch_size:
        Events per request at most when more than ``batch_size`` are waiting (the collector is
        slower than the predictions): each request has a fixed cost at the collector, so
        fewer, larger ones let it catch up. The collector accepts 10,000 by default
        (``server.max_batch_events``); a 413 halves a batch.
    sample_rate:
        Fraction of raw events shipped (metrics always count every prediction). The decision
        is a hash of the event id, so a label is shipped exactly when its prediction was.
    timeout, max_retries, backoff_base, backoff_cap:
        Per-request timeout; retries of a failed batch (``None``: until the monitor closes);
        backoff ``U(0, min(cap, base·2^attempt))`` seconds.
    clock:
        Returns the event time as epoch seconds (default ``time.time``).
    task:
        ``"classification"``, ``"regression"`` or ``"auto"`` (float predictions without
        probabilities are regression values, everything else a class).
    seed, rng:
        Randomness of the retry jitter.
    value_buckets:
        Buckets of ``keeneye_prediction_value`` (regression), fixed per registry.
    on_delivery:
        Called from the sender thread with ``(outcome, event_ids)`` after each request —
        ``"sent"`` or the drop reason.
    privacy:
        A :class:`keeneye.privacy.PrivacyPolicy`, or the path of a ``keeneye.yaml`` whose
        ``privacy.models.<model>`` section to apply: dropped, hashed and bucketed fields are
        rewritten before an event is queued (``docs/privacy.md``); labels' event ids are hashed
        the same way, so they still join.
    modalities:
        ``{feature: "text" | "image" | "embedding"}``: text and image features are sent as
        descriptors (length, tokens, hashed token counts; size, brightness, contrast,
        sharpness …), embeddings as one compact string (:mod:`keeneye.sdk.descriptors`).
    keep_raw:
        Text or image features whose raw value is sent as well (off by default).

    Example (no collector listening: the call still returns, the event is counted as dropped):

    >>> import socket
    >>> from prometheus_client import CollectorRegistry
    >>> nobody = socket.socket()
    >>> nobody.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
    >>> url = f"http://127.0.0.1:{nobody.getsockname()[1]}"
    >>> registry = CollectorRegistry()
    >>> with Monitor("churn", "3", url=url, registry=registry, max_retries=0) as monitor:
    ...     @monitor.watch
    ...     def predict(record):
    ...         return 0.7 * record["age"] / 100
    ...     predict({"age": 50, "plan": "pro"})
    ...     monitor.flush(timeout=5)
    0.35
    True
    >>> registry.get_sample_value(
    ...     "keeneye_sdk_dropped_events_total",
    ...     {"model": "churn", "version": "3", "reason": "retries_exhausted"})
    1.0
    >>> nobody.close()
    """

    def __init__(
        self,
        model: str,
        version: str,
        url: str = "http://127.0.0.1:8765",
        token: str | None = None,
        *,
        registry: CollectorRegistry | None = None,
        queue_size: int = 50_000,
        batch_size: int = 2_000,
        max_batch_size: int = 10_000,
        flush_interval: float = 1.0,
        sample_rate: float = 1.0,
        timeout: float = 5.0,
        max_retries: int | None = 8,
        backoff_base: float = 0.1,
        backoff_cap: float = 10.0,
        clock: Callable[[], float] | None = None,
        task: str = "auto",
        seed: int | None = None,
        rng: random.Random | None = None,
        value_buckets: Sequence[float] | None = None,
        on_delivery: DeliveryCallback | None = None,
        privacy: PrivacyPolicy | str | Path | None = None,
        modalities: Mapping[str, str] | None = None,
        keep_raw: Collection[str] = (),
    ) -> None:
        _check_name("model", model)
        _check_name("version", version)
        if not url.startswith(("http://", "https://")):
            raise InputError(f"url {url!r} must start with http:// or https://")
        _check_positive("queue_size", queue_size, integer=True)
        _check_positive("batch_size", batch_size, integer=True)
        _check_positive("max_batch_size", max_batch_size, integer=True)
        _check_positive("flush_interval", flush_interval)
        _check_positive("timeout", timeout)
        _check_positive("backoff_base", backoff_base)
        _check_positive("backoff_cap", backoff_cap)
        if not (0.0 < sample_rate <= 1.0):
            raise InputError(f"sample_rate={sample_rate!r} must be in (0, 1]")
        if max_retries is not None and (not isinstance(max_retries, int) or max_retries < 0):
            raise InputError(f"max_retries={max_retries!r} must be an integer >= 0 or None")
        if task not in TASKS:
            raise InputError(f"task={task!r} must be one of {TASKS}")
        # resolved before the sender thread starts: a policy that cannot apply raises here
        self.privacy = _policy_of(privacy, model)
        self.model = model
        self.version = version
        # Text and image features leave the process as descriptors (keeneye.sdk.descriptors).
        self._modalities = descriptors.parse_modalities(modalities or {})
        self._keep_raw = frozenset(keep_raw)
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._max_retries = max_retries
        self._backoff = (backoff_base, backoff_cap)
        self.task = task
        self.sample_rate = sample_rate
        self._sample_below = int(sample_rate * 2**32)  # crc32(event id) below this: shipped
        self._clock = clock or time.time
        self.registry = registry if registry is not None else REGISTRY
        self._m = ModelMetrics(self.registry, model, version, value_buckets, task)
        # predictions are counted in bulk off the predicting thread (keeneye.sdk.metrics)
        self._pending = self._m.pending
        self._count = self._pending.append
        self._transport = Transport(
            url=self.url,
            model=model,
            version=version,
            token=token,
            metrics=self._m,
            queue_size=queue_size,
            batch_size=batch_size,
            max_batch_size=max_batch_size,
            flush_interval=flush_interval,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            rng=rng if rng is not None else random.Random(seed),
            on_delivery=on_delivery,
        )
        self._last_ids: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
            f"keeneye_last_ids_{id(self)}", default=()
        )
        self._warned: set[str] = set()
        # no sampling, privacy or descriptors: a watched call queues its event as it is
        self._plain = sample_rate == 1.0 and self.privacy is None and not self._modalities
        self._put = self._transport.put

    # ---- logging -------------------------------------------------------------------------

    def log(
        self,
        inputs: Mapping[str, Any],
        prediction: Any,
        *,
        probabilities: Any = None,
        event_id: str | None = None,
        timestamp: datetime | float | None = None,
        latency_seconds: float | None = None,
    ) -> str:
        """Record one prediction; return its event id. Never blocks, never waits for I/O.

        Raises :class:`~keeneye.errors.InputError` only for arguments of the wrong type
        (a programming error); delivery problems are counted, never raised.
        """
        if not isinstance(inputs, Mapping):
            rows, single = records.rows_from_inputs(inputs)
            if not single:
                raise InputError(
                    f"log() takes one record, got {len(rows)} rows; call it once per row "
                    "or use @monitor.watch for batches"
                )
            inputs = rows[0]
        eid = new_event_id() if event_id is None else _check_event_id(event_id)
        ts = self._clock() if timestamp is None else _epoch(timestamp)
        if latency_seconds is not None and not isinstance(latency_seconds, (int, float)):
            raise InputError(f"latency_seconds={latency_seconds!r} must be a number of seconds")
        proba = None
        if probabilities is not None:
            proba = records.split_probabilities(probabilities, 1)[0]
        prediction = records.scalar(prediction)
        self._counted(latency_seconds, prediction, proba)
        self._ship(eid, ts, dict(inputs), prediction, proba, latency_seconds)
        return eid

    def log_label(
        self, event_id: str, label: Any, *, timestamp: datetime | float | None = None
    ) -> None:
        """Send the ground truth of a logged prediction (joined by ``event_id``, at any delay)."""
        eid = _check_event_id(event_id)
        ts = self._clock() if timestamp is None else _epoch(timestamp)
        if self._sample_below < 2**32 and not self._sampled(eid):
            self._transport.note_sampled_out(1)
            return
        if self.privacy is not None:
            eid = self.privacy.event_id(eid)
        self._transport.put(("l", eid, ts, records.scalar(label)))

    # ---- history: blocking batches --------------------------------------------------------

    def log_batch(
        self,
        inputs: Any,
        predictions: Any,
        *,
        probabilities: Any = None,
        event_ids: Any = None,
        timestamps: Any = None,
        classes: Sequence[Any] | None = None,
        feature_names: Sequence[str] | None = None,
        batch_size: int = backfill.DEFAULT_BATCH,
    ) -> backfill.BatchReport:
        """Send many past (or present) predictions at once and **block** until the collector
        acknowledged every one — the way to replay history or backfill a gap.

        ``inputs`` is anything :meth:`watch` accepts (a DataFrame, an Arrow table, a list of
        records, a numpy array with ``feature_names``); ``predictions`` one value per row;
        ``probabilities`` a rows × classes array (``classes`` names its columns), a list of
        ``{class: p}`` or a DataFrame; ``event_ids`` and ``timestamps`` (aware datetimes,
        datetime64 as UTC, or epoch seconds) one per row. Rows go out in requests of
        ``batch_size``, retried when the collector may accept them later; raises
        :class:`~keeneye.errors.CollectorError` if a batch is refused or never acknowledged.
        Sampling does not apply and the in-process Prometheus metrics are not touched (they
        describe live traffic). The serving path (:meth:`log`, :meth:`watch`) stays
        non-blocking.
        """
        _check_positive("batch_size", batch_size, integer=True)
        rows, _ = records.rows_from_inputs(inputs, feature_names)
        n = len(rows)
        preds = backfill.values_of(predictions, n, "predictions")
        probas: list[Any] = (
            [None] * n
            if probabilities is None
            else records.split_probabilities(probabilities, n, classes)
        )
        ids = backfill.event_ids_of(event_ids, n, new_event_id)
        times = backfill.epochs(timestamps, n, self._clock)
        policy = self.privacy
        items = [
            (
                "p",
                eid if policy is None else policy.event_id(eid),
                ts,
                self._described(row if policy is None else policy.inputs(row)),
                pred,
                proba,
                None,
            )
            for eid, ts, row, pred, proba in zip(ids, times, rows, preds, probas, strict=True)
        ]
        sender = self._sender()
        try:
            stored, duplicates, requests = sender.predictions(items, batch_size)
        finally:
            sender.close()
        return backfill.BatchReport(tuple(ids), stored, duplicates=duplicates, requests=requests)

    def log_labels(
        self,
        event_ids: Any,
        labels: Any,
        *,
        timestamps: Any = None,
        batch_size: int = backfill.DEFAULT_BATCH,
    ) -> backfill.BatchReport:
        """Send the ground truth of many predictions at once (joined by event id, at any
        delay) and **block** until the collector acknowledged every label. ``timestamps``
        (when each label became known; default now) as in :meth:`log_batch`."""
        _check_positive("batch_size", batch_size, integer=True)
        if isinstance(event_ids, str):
            raise InputError("event_ids must be a list of ids; use log_label() for one label")
        ids = [str(records.scalar(v)) for v in backfill.values_of(event_ids, None, "event_ids")]
        values = backfill.values_of(labels, len(ids), "labels")
        times = backfill.epochs(timestamps, len(ids), self._clock)
        if self.privacy is not None:
            ids = [self.privacy.event_id(eid) for eid in ids]
        items = [("l", eid, ts, lab) for eid, ts, lab in zip(ids, times, values, strict=True)]
        sender = self._sender()
        try:
            stored, replaced, pending = sender.labels(items, batch_size)
        finally:
            sender.close()
        return backfill.BatchReport(tuple(ids), stored, replaced=replaced, pending=pending)

    def register_baseline(self, table: Any, *, version: str | None = None) -> dict[str, Any]:
        """Register the training data (a pyarrow Table, pandas/polars DataFrame or a list of
        records; it may carry the model's score or probability columns) as the baseline of
        this monitor's version (or ``version``); blocking. Returns the collector's answer.

        The privacy policy applies first. With ``modalities``, text and image columns then go
        out as the descriptors and token sketches production sends (and embeddings encoded), so
        the raw training data stays here too and the server's reference knows these columns'
        kinds.

        A source URI (``"dvc:///srv/repo/data/train.parquet@v1"``,
        ``"feast:///srv/features?feature_service=churn&start=2026-01-01&end=2026-02-01"``) is
        read by the collector, which records the DVC revision, commit and md5, or the Feast
        feature service, its features and the range, in the version's lineage (the collector
        applies its privacy policy to what it reads)."""
        if isinstance(table, str) and "://" in table:
            return backfill.register_source(
                self.url,
                self.model,
                version or self.version,
                table,
                self._token,
                timeout=self._timeout,
            )
        if self.privacy is not None:
            from keeneye.privacy.policy import apply_to_table

            table = apply_to_table(self.privacy, backfill.as_table(table))
        if self._modalities:
            rows = backfill.as_table(table).to_pylist()
            table = pa.Table.from_pylist([self._described(row) for row in rows])
        return backfill.upload_baseline(
            self.url,
            self.model,
            version or self.version,
            table,
            self._token,
            timeout=self._timeout,
        )

    def _sender(self) -> backfill.Sender:
        return backfill.Sender(
            self.url,
            self.model,
            self.version,
            self._token,
            timeout=self._timeout,
            max_retries=8 if self._max_retries is None else self._max_retries,
            backoff=self._backoff,
        )

    def last_event_ids(self) -> tuple[str, ...]:
        """Event ids of the latest watched call in this thread or asyncio task (one per row)."""
        return self._last_ids.get()

    # ---- the decorator ---------------------------------------------------------------------

    def watch(
        self,
        fn: F | None = None,
        *,
        input_arg: str | None = None,
        feature_names: Sequence[str] | None = None,
        predict_proba: Callable[..., Any] | None = None,
        classes: Sequence[Any] | None = None,
        id_key: str | None = None,
    ) -> Any:
        """Decorate a predict function (sync or ``async``) to log each row it predicts.

        The inputs are the function's first argument (after ``self``) or ``input_arg``: a
        mapping, a list of mappings, a pandas/polars DataFrame, a pyarrow Table or a numpy
        array (columns named by ``feature_names``, else ``x0, x1, …``). The function returns
        one prediction per row (a list-like for several rows), or a mapping with
        ``"prediction"``/``"predictions"`` and ``"probabilities"``. Probabilities may also come
        from ``predict_proba`` (called with the inputs after the prediction, outside the timed
        call; classes from ``classes`` or its model's ``classes_``). ``id_key`` names an input
        field that holds the event id (it is not logged as a feature); otherwise ids are random
        and :meth:`last_event_ids` returns them.

        The function's own exceptions are counted and re-raised unchanged; monitoring's own
        failures are logged and counted, never raised.
        """
        if fn is None:
            return functools.partial(
                self.watch,
                input_arg=input_arg,
                feature_names=feature_names,
                predict_proba=predict_proba,
                classes=classes,
                id_key=id_key,
            )
        spec = _WatchSpec(fn, input_arg, feature_names, predict_proba, classes, id_key)
        perf = time.perf_counter
        after = self._after_call
        on_error = self._on_error

        if inspect.iscoroutinefunction(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                start = perf()
                try:
                    result = await afn(*args, **kwargs)
                except Exception as exc:
                    on_error(exc)
                    raise
                after(spec, args, kwargs, result, perf() - start)
                return result

            return awrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = perf()
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                on_error(exc)
                raise
            after(spec, args, kwargs, result, perf() - start)
            return result

        return wrapper

    def _on_error(self, exc: BaseException) -> None:
        try:
            self._m.count_error(exc)
        except Exception as own:  # never mask the user's exception
            self._warn_once(f"could not count a predict error: {own!r}")

    def _after_call(
        self,
        spec: _WatchSpec,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        result: Any,
        elapsed: float,
    ) -> None:
        try:
            pos = spec.position  # spec.inputs_of, inlined
            if pos is not None and len(args) > pos:
                inputs = args[pos]
            else:
                inputs = kwargs.get(spec.name, _MISSING)
            if type(inputs) is dict and type(result) in _SCALARS and spec.simple:
                # The common single-record call, kept short: it is the per-prediction overhead.
                # Counting, validation and encoding happen off this thread; the inputs are
                # copied because the caller may reuse its dict once the call returned.
                eid = new_event_id()
                pending = self._pending
                pending.append((elapsed, result, None))
                if len(pending) >= MAX_PENDING:
                    self._m.apply_pending(wait=False)
                if self._plain:
                    self._put(("p", eid, self._clock(), dict(inputs), result, None, elapsed))
                else:
                    self._ship(eid, self._clock(), dict(inputs), result, None, elapsed)
                self._last_ids.set((eid,))
            else:
                self._after_call_general(spec, args, kwargs, result, elapsed, inputs)
        except Exception as exc:  # monitoring's failure: count and log, never raise
            self._warn_once(f"could not log a watched call: {exc!r}")

    def _after_call_general(
        self,
        spec: _WatchSpec,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        result: Any,
        elapsed: float,
        inputs: Any,
    ) -> None:
        n = 1
        counted = False
        try:
            if inputs is _MISSING:
                raise InputError(f"the watched call had no {spec.name!r} argument")
            rows, single = records.rows_from_inputs(inputs, spec.feature_names)
            n = len(rows)
            counted = True
            pred_src, proba_src = result, None
            if isinstance(result, Mapping) and ("prediction" in result or "predictions" in result):
                pred_src = result.get("predictions", result.get("prediction"))
                proba_src = result.get("probabilities")
            if spec.predict_proba is not None:
                proba_src = spec.predict_proba(inputs)
            preds = records.split_outputs(pred_src, n, single=single)
            probas: list[Any] = (
                [None] * n
                if proba_src is None
                else records.split_probabilities(proba_src, n, spec.classes)
            )
            if spec.id_key is None:
                ids = [new_event_id() for _ in range(n)]
            else:
                ids = [_pop_id(row, spec.id_key) for row in rows]
        except Exception as exc:
            # the call's latency counts; its rows count as predictions once they were read
            self._m.latency.observe(elapsed)
            if counted:
                self._m.predictions.inc(n)
            self._transport.drop("invalid_input", n)
            self._last_ids.set(())
            self._warn_once(f"watched call not logged ({n} rows dropped): {exc}")
            return
        if not rows:
            self._m.latency.observe(elapsed)
        now = self._clock()
        latency: float | None = elapsed  # observed once per call, with its first row
        for eid, row, pred, proba in zip(ids, rows, preds, probas, strict=True):
            self._counted(latency, pred, proba)
            latency = None
            self._ship(eid, now, row, pred, proba, elapsed)
        self._last_ids.set(tuple(ids))

    def _counted(self, latency: float | None, prediction: Any, probabilities: Any) -> None:
        """Count one prediction in the metrics (in bulk, later: ``ModelMetrics.pending``)."""
        self._count((latency, prediction, probabilities))
        if len(self._pending) >= MAX_PENDING:
            self._m.apply_pending(wait=False)

    def _sampled(self, event_id: str) -> bool:
        return zlib.crc32(event_id.encode()) < self._sample_below

    def _ship(
        self,
        event_id: str,
        timestamp: float,
        inputs: dict[str, Any],
        prediction: Any,
        probabilities: Any,
        latency: float | None,
    ) -> None:
        if self._sample_below < 2**32 and not self._sampled(event_id):
            self._transport.note_sampled_out(1)
            return
        if self.privacy is not None:
            event_id = self.privacy.event_id(event_id)
            inputs = self.privacy.inputs(inputs)
        inputs = self._described(inputs)
        self._transport.put(("p", event_id, timestamp, inputs, prediction, probabilities, latency))

    def _described(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """``inputs`` with text and image features as descriptors (``modalities``)."""
        if not self._modalities:
            return inputs
        return descriptors.expand(inputs, self._modalities, self._keep_raw)

    def _warn_once(self, message: str) -> None:
        if message not in self._warned and len(self._warned) < 100:
            self._warned.add(message)
            log.warning("keeneye: %s", message)

    # ---- versions, flushing, lifecycle -----------------------------------------------------

    def register_version(
        self,
        *,
        live: bool = True,
        model_uri: str | None = None,
        mlflow_run_id: str | None = None,
        training_data: str | None = None,
        git_sha: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register this monitor's version with its provenance (and mark it live); blocking.

        Returns the collector's JSON answer; raises :class:`~keeneye.errors.CollectorError`
        with the collector's message when it refuses or cannot be reached.
        """
        body: dict[str, Any] = {
            "version": self.version,
            "model_uri": model_uri,
            "mlflow_run_id": mlflow_run_id,
            "training_data": training_data,
            "git_sha": git_sha,
            "tags": dict(tags or {}),
            "live": live,
        }
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        url = f"{self.url}/v1/models/{quote(self.model, safe='')}/versions"
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise CollectorError(
                f"could not reach the collector at {self.url} to register version "
                f"{self.version!r}: {type(exc).__name__}; is `keeneye server` running?"
            ) from exc
        if response.status_code >= 300:
            code, message = _error_of(response)
            raise CollectorError(
                f"collector refused version {self.version!r} of {self.model!r} "
                f"(HTTP {response.status_code}): {message}",
                status=response.status_code,
                code=code,
            )
        return cast(dict[str, Any], response.json())

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every queued event is delivered or dropped; False on timeout.

        From asyncio code use :meth:`aflush` (this call blocks the thread).
        """
        return self._transport.flush(timeout)

    async def aflush(self, timeout: float | None = None) -> bool:
        """:meth:`flush` without blocking the event loop."""
        import asyncio

        return await asyncio.to_thread(self._transport.flush, timeout)

    def close(self, timeout: float | None = 5.0) -> None:
        """Flush for up to ``timeout`` seconds and stop; events still queued are dropped."""
        self._transport.close(timeout)

    def stats(self) -> dict[str, Any]:
        """Events offered to the queue, sent, dropped by reason, pending and sampled out.

        ``offered == sent + sum(dropped.values()) + pending`` at any moment.
        """
        return self._transport.stats()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Monitor(model={self.model!r}, version={self.version!r}, url={self.url!r})"


def _policy_of(privacy: PrivacyPolicy | str | Path | None, model: str) -> PrivacyPolicy | None:
    if privacy is None:
        return None
    from keeneye.privacy.policy import PrivacyPolicy

    if isinstance(privacy, PrivacyPolicy):
        return privacy
    if isinstance(privacy, (str, Path)):
        from keeneye.config import load_settings

        policy = PrivacyPolicy.for_model(load_settings(privacy).privacy, model)
        if policy is None:
            raise InputError(
                f"{str(privacy)!r} has no privacy.models.{model} section; add the model's "
                "policy there or pass privacy=None"
            )
        return policy
    raise InputError(
        f"privacy={type(privacy).__name__}; pass a PrivacyPolicy or the path of a keeneye.yaml"
    )


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    try:
        error = response.json()["error"]
        return str(error.get("code")), str(error.get("message"))
    except Exception:
        return None, response.text[:200]


def _check_name(what: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InputError(f"{what}={value!r} must be a non-empty string")


def _check_positive(what: str, value: float, *, integer: bool = False) -> None:
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
        kind = "an integer" if integer else "a number"
        raise InputError(f"{what}={value!r} must be {kind} > 0")


def _check_event_id(event_id: object) -> str:
    if not isinstance(event_id, str) or not event_id:
        raise InputError(f"event_id={event_id!r} must be a non-empty string")
    return event_id


def _pop_id(features: dict[str, Any], key: str) -> str:
    value = features.pop(key, None)
    if value is None:
        raise InputError(f"id_key {key!r} missing from the record")
    return str(value)


def _epoch(timestamp: datetime | float) -> float:
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            raise InputError(
                f"timestamp {timestamp.isoformat()} has no timezone; pass an aware datetime "
                "(e.g. datetime.now(timezone.utc)) or epoch seconds"
            )
        return timestamp.timestamp()
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        return float(timestamp)
    raise InputError(f"timestamp={timestamp!r} must be an aware datetime or epoch seconds")
