"""Prometheus instruments of the SDK, shared per registry.

Every :class:`~keeneye.Monitor` on one registry uses the same instruments (two monitors would
otherwise collide on metric names); each monitor binds its own ``model``/``version`` label
children once.

A prediction is not counted on the predicting thread: it appends ``(latency, prediction,
probabilities)`` to :attr:`ModelMetrics.pending` (one atomic deque append) and the instruments
take pending predictions in bulk — from the sender thread after each batch, and before anything
reads them (a scrape, ``get_sample_value``): every reader sees every prediction logged before
it. Updating a histogram one observation at a time costs ~1 µs under its locks; in bulk, a
bisection per value and one locked addition per bucket.

>>> from prometheus_client import CollectorRegistry
>>> registry = CollectorRegistry()
>>> m = ModelMetrics(registry, "churn", "3")
>>> m.pending.append((0.002, 0.4, None))
>>> registry.get_sample_value("keeneye_predictions_total", {"model": "churn", "version": "3"})
1.0
>>> registry.get_sample_value(
...     "keeneye_prediction_latency_seconds_bucket",
...     {"model": "churn", "version": "3", "le": "0.0025"})
1.0
>>> ModelMetrics(registry, "churn", "4").instruments is m.instruments
True
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import weakref
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector

from keeneye.sdk.records import confidence

#: Why an event was not delivered; each reason is a label value of the drop counter.
DROP_REASONS = (
    "queue_full",  # the bounded queue was full when the event was logged
    "rejected",  # the collector answered 4xx (other than 408/429): the request cannot succeed
    "retries_exhausted",  # retryable failures (down, 5xx, timeouts) beyond max_retries
    "shutdown",  # still queued when the monitor was closed
    "serialization",  # the event could not be encoded as the wire contract's JSON
    "invalid_input",  # the predict call's inputs/outputs could not be turned into events
    "internal_error",  # a bug in the SDK's sender (logged with its traceback)
)

LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, math.inf,
)  # fmt: skip
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0, math.inf)
# Non-negative on purpose: prometheus_client exports a histogram's _sum only when its first
# bucket is >= 0, and the sum gives the mean prediction. Models with other ranges pass
# ``value_buckets`` (negative predictions otherwise land in the le="0.0" bucket).
VALUE_BUCKETS = (
    0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 1000.0, 10000.0, math.inf,
)  # fmt: skip

#: Distinct predicted classes tracked per model version; more go to ``OTHER_CLASS`` so a model
#: that predicts free text cannot explode the number of time series.
MAX_CLASSES = 100
OTHER_CLASS = "__other__"

_LABELS = ("model", "version")

#: Pending predictions above which the predicting thread applies them itself (the sender
#: normally does it long before; this bounds the memory when nothing is shipped, e.g. sampling).
MAX_PENDING = 8192

_PAUSE_EVERY = 64  # predictions counted between two calls of apply_pending's pause

#: A prediction waiting to be counted: (latency seconds or None, prediction, probabilities).
Pending = tuple[float | None, Any, Any]


class _DrainedCounter(Counter):
    """A counter family that applies pending predictions before it is collected."""

    before_collect: Callable[[], None] | None = None

    def collect(self) -> Iterable[Metric]:
        if self.before_collect is not None:
            self.before_collect()
        return super().collect()


class _DrainedHistogram(Histogram):
    """A histogram family that applies pending predictions before it is collected."""

    before_collect: Callable[[], None] | None = None

    def collect(self) -> Iterable[Metric]:
        if self.before_collect is not None:
            self.before_collect()
        return super().collect()


def observe_all(
    histogram: Histogram, values: Sequence[float], pause: Callable[[], None] | None = None
) -> None:
    """``histogram.observe(v)`` for each of ``values``: one locked addition per bucket.

    ``pause`` is called every :data:`_PAUSE_EVERY` values (the sender hands the GIL over).

    Reaches into prometheus_client's histogram child (its bounds, bucket and sum values); a
    release without them gets one ``observe`` per value.

    >>> from prometheus_client import CollectorRegistry
    >>> registry = CollectorRegistry()
    >>> h = Histogram("h", "doc", buckets=(1.0, 2.0), registry=registry)
    >>> observe_all(h, [0.5, 1.0, 1.5, 7.0])
    >>> [registry.get_sample_value("h_bucket", {"le": le}) for le in ("1.0", "2.0", "+Inf")]
    [2.0, 3.0, 4.0]
    >>> registry.get_sample_value("h_sum")
    10.0
    """
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for value in values:  # pragma: no cover - another prometheus_client layout
            histogram.observe(value)
        return
    counts = [0] * len(bounds)
    for i, value in enumerate(values):
        if pause is not None and i % _PAUSE_EVERY == _PAUSE_EVERY - 1:
            pause()
        # le semantics: the first bound >= value; NaN lands in no bucket, as with observe()
        if value == value:  # false for NaN only
            counts[bisect_left(bounds, value)] += 1  # the last bound is +Inf
    total.inc(sum(values))
    for i, count in enumerate(counts):
        if count:
            buckets[i].inc(count)


class Instruments:
    """The metric families of one registry (created once per registry)."""

    def __init__(self, registry: CollectorRegistry, value_buckets: Sequence[float]) -> None:
        self.value_buckets = tuple(value_buckets)
        kw: dict[str, Any] = {"registry": registry}
        self.predictions = _DrainedCounter(
            "keeneye_predictions",
            "Predictions made (rows, all of them, before sampling).",
            _LABELS,
            **kw,
        )
        self.latency = _DrainedHistogram(
            "keeneye_prediction_latency_seconds",
            "Wall time of one watched predict call.",
            _LABELS,
            buckets=LATENCY_BUCKETS,
            **kw,
        )
        self.errors = Counter(
            "keeneye_prediction_errors",
            "Predict calls that raised, by exception class.",
            (*_LABELS, "exception"),
            **kw,
        )
        self.value = _DrainedHistogram(
            "keeneye_prediction_value",
            "Predicted values of a regression model.",
            _LABELS,
            buckets=self.value_buckets,
            **kw,
        )
        self.predicted_class = _DrainedCounter(
            "keeneye_predicted_class",
            "Predictions per predicted class (classification).",
            (*_LABELS, "class"),
            **kw,
        )
        self.confidence = _DrainedHistogram(
            "keeneye_prediction_confidence",
            "Largest class probability of each prediction.",
            _LABELS,
            buckets=CONFIDENCE_BUCKETS,
            **kw,
        )
        self.nonfinite = _DrainedCounter(
            "keeneye_nonfinite_predictions",
            "Predictions that were NaN or ±infinity.",
            _LABELS,
            **kw,
        )
        self.model_info = Gauge(
            "keeneye_model_info",
            "1 for each model version served by this process.",
            _LABELS,
            **kw,
        )
        self.queue = Gauge(
            "keeneye_sdk_queue_events",
            "Events waiting in the SDK (queued or being sent).",
            _LABELS,
            **kw,
        )
        self.sent = Counter(
            "keeneye_sdk_sent_events", "Events the collector acknowledged.", _LABELS, **kw
        )
        self.dropped = Counter(
            "keeneye_sdk_dropped_events",
            "Events the SDK could not deliver, by reason.",
            (*_LABELS, "reason"),
            **kw,
        )
        # (model, version) -> queue-size callables of live transports, summed at scrape time
        self._queue_sources: dict[tuple[str, str], weakref.WeakSet[Any]] = {}
        self._lock = threading.Lock()
        # the ModelMetrics whose pending predictions a collection applies first
        self._pending_sources: weakref.WeakSet[ModelMetrics] = weakref.WeakSet()
        for family in (
            self.predictions,
            self.latency,
            self.value,
            self.predicted_class,
            self.confidence,
            self.nonfinite,
        ):
            family.before_collect = self.apply_pending

    def add_pending_source(self, metrics: ModelMetrics) -> None:
        """Apply ``metrics``' pending predictions whenever one of the families is collected."""
        with self._lock:
            self._pending_sources.add(metrics)

    def apply_pending(self) -> None:
        """Count every pending prediction of every model version of this registry."""
        with self._lock:
            sources = list(self._pending_sources)
        for metrics in sources:
            metrics.apply_pending()

    def add_queue_source(self, model: str, version: str, source: Any) -> None:
        """Report ``len(source)`` in the queue gauge of ``model``/``version`` at scrape time."""
        key = (model, version)
        with self._lock:
            sources = self._queue_sources.get(key)
            if sources is None:
                sources = self._queue_sources[key] = weakref.WeakSet()
                self.queue.labels(model, version).set_function(self._summer(sources))
            sources.add(source)

    @staticmethod
    def _summer(sources: weakref.WeakSet[Any]) -> Callable[[], float]:
        def total() -> float:
            return float(sum(len(s) for s in list(sources)))

        return total


_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, Instruments] = (
    weakref.WeakKeyDictionary()
)
_by_registry_lock = threading.Lock()


def instruments_for(
    registry: CollectorRegistry, value_buckets: Sequence[float] | None = None
) -> Instruments:
    """The shared instruments of ``registry``, created (with the process collector) on first use.

    Raises ``ValueError`` when ``value_buckets`` differ from those the registry's instruments
    were created with (a histogram's buckets cannot change).
    """
    with _by_registry_lock:
        found = _by_registry.get(registry)
        if found is None:
            found = Instruments(registry, value_buckets or VALUE_BUCKETS)
            _by_registry[registry] = found
            if registry is not REGISTRY:  # the default registry has one already
                # ValueError: the user registered a process collector already; keep theirs
                with contextlib.suppress(ValueError):
                    ProcessCollector(registry=registry)
        elif value_buckets is not None and tuple(value_buckets) != found.value_buckets:
            raise ValueError(
                f"value_buckets {tuple(value_buckets)} differ from {found.value_buckets} "
                "already used on this registry; use the same buckets or another registry"
            )
        return found


class ModelMetrics:
    """The label children of one model version, bound once (the hot path only calls them)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        model: str,
        version: str,
        value_buckets: Sequence[float] | None = None,
        task: str = "auto",
    ) -> None:
        inst = instruments_for(registry, value_buckets)
        self.task = task
        self.instruments = inst
        self.model = model
        self.version = version
        self.predictions = inst.predictions.labels(model, version)
        self.latency = inst.latency.labels(model, version)
        self.value = inst.value.labels(model, version)
        self.confidence = inst.confidence.labels(model, version)
        self.nonfinite = inst.nonfinite.labels(model, version)
        self.sent = inst.sent.labels(model, version)
        self.dropped = {r: inst.dropped.labels(model, version, r) for r in DROP_REASONS}
        inst.model_info.labels(model, version).set(1)
        self._classes: dict[Any, Any] = {}
        self._errors: dict[type, Any] = {}
        #: Predictions logged but not yet counted (see the module docstring); append only.
        self.pending: deque[Pending] = deque()
        self._applying = threading.Lock()
        inst.add_pending_source(self)
        _live.add(self)

    def _after_fork_in_child(self) -> None:
        # The parent's sender may have been counting at the fork (its lock would stay held),
        # and what the parent logged is the parent's to count.
        self._applying = threading.Lock()
        self.pending.clear()

    def apply_pending(self, *, wait: bool = True, pause: Callable[[], None] | None = None) -> None:
        """Count the pending predictions in bulk (``wait=False``: skip if another thread is).

        ``pause`` is called every few hundred predictions (the sender hands the GIL over).

        A prediction is counted in ``keeneye_predictions_total``; its latency (when given) in
        the latency histogram; its probabilities' largest value in the confidence histogram; a
        NaN/±inf prediction as non-finite; a float counts as a class when the task is
        classification (or ``auto`` with probabilities), else as a regression value; ints count
        as values for regression and as classes otherwise; strings and bools as classes.
        """
        pending = self.pending
        if not pending or not self._applying.acquire(blocking=wait):
            return
        try:
            n = len(pending)
            pop = pending.popleft
            latencies: list[float] = []
            values: list[float] = []
            confidences: list[float] = []
            classes: dict[Any, int] = {}
            nonfinite = 0
            task = self.task
            classify_floats = task == "classification"
            values_of_ints = task == "regression"
            for i in range(n):
                if pause is not None and i % _PAUSE_EVERY == _PAUSE_EVERY - 1:
                    pause()
                latency, prediction, probabilities = pop()
                if latency is not None:
                    latencies.append(latency)
                if probabilities is not None:
                    conf = confidence(probabilities)
                    if conf is not None:
                        confidences.append(conf)
                kind = type(prediction)
                if kind is float:
                    if not math.isfinite(prediction):
                        nonfinite += 1
                    elif classify_floats or (task == "auto" and probabilities is not None):
                        classes[prediction] = classes.get(prediction, 0) + 1
                    else:
                        values.append(prediction)
                elif kind is int and values_of_ints:
                    values.append(prediction)
                elif kind is str or kind is bool or kind is int:
                    classes[prediction] = classes.get(prediction, 0) + 1
            self.predictions.inc(n)
            if latencies:
                observe_all(self.latency, latencies, pause)
            if values:
                observe_all(self.value, values, pause)
            if confidences:
                observe_all(self.confidence, confidences, pause)
            if nonfinite:
                self.nonfinite.inc(nonfinite)
            for predicted, count in classes.items():
                self.count_class(predicted, count)
        finally:
            self._applying.release()

    def count_class(self, predicted: Any, amount: float = 1.0) -> None:
        """Count one predicted class (at most ``MAX_CLASSES`` distinct label values)."""
        child = self._classes.get(predicted)
        if child is None:
            if len(self._classes) < MAX_CLASSES:
                name = str(predicted)
                child = self.instruments.predicted_class.labels(self.model, self.version, name)
                self._classes[predicted] = child
            else:  # not remembered: the cache stays bounded too
                child = self.instruments.predicted_class.labels(
                    self.model, self.version, OTHER_CLASS
                )
        child.inc(amount)

    def count_error(self, exc: BaseException) -> None:
        """Count one predict call that raised ``exc``."""
        kind = type(exc)
        child = self._errors.get(kind)
        if child is None:
            child = self.instruments.errors.labels(self.model, self.version, kind.__name__)
            self._errors[kind] = child
        child.inc()

    def count_dropped(self, reason: str, amount: int) -> None:
        """Count ``amount`` undeliverable events under ``reason`` (one of ``DROP_REASONS``)."""
        self.dropped[reason].inc(amount)


_live: weakref.WeakSet[ModelMetrics] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for metrics in list(_live):
        metrics._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)
