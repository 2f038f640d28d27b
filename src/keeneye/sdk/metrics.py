"""Prometheus instruments of the SDK, shared per registry.

Every :class:`~keeneye.Monitor` on one registry uses the same instruments (two monitors would
otherwise collide on metric names); each monitor binds its own ``model``/``version`` label
children once, so the per-prediction cost is a few lock-protected additions.

>>> from prometheus_client import CollectorRegistry
>>> registry = CollectorRegistry()
>>> m = ModelMetrics(registry, "churn", "3")
>>> m.predictions.inc()
>>> registry.get_sample_value("keeneye_predictions_total", {"model": "churn", "version": "3"})
1.0
>>> ModelMetrics(registry, "churn", "4").instruments is m.instruments
True
"""

from __future__ import annotations

import contextlib
import math
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector

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


class Instruments:
    """The metric families of one registry (created once per registry)."""

    def __init__(self, registry: CollectorRegistry, value_buckets: Sequence[float]) -> None:
        self.value_buckets = tuple(value_buckets)
        kw: dict[str, Any] = {"registry": registry}
        self.predictions = Counter(
            "keeneye_predictions",
            "Predictions made (rows, all of them, before sampling).",
            _LABELS,
            **kw,
        )
        self.latency = Histogram(
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
        self.value = Histogram(
            "keeneye_prediction_value",
            "Predicted values of a regression model.",
            _LABELS,
            buckets=self.value_buckets,
            **kw,
        )
        self.predicted_class = Counter(
            "keeneye_predicted_class",
            "Predictions per predicted class (classification).",
            (*_LABELS, "class"),
            **kw,
        )
        self.confidence = Histogram(
            "keeneye_prediction_confidence",
            "Largest class probability of each prediction.",
            _LABELS,
            buckets=CONFIDENCE_BUCKETS,
            **kw,
        )
        self.nonfinite = Counter(
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
    ) -> None:
        inst = instruments_for(registry, value_buckets)
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
