"""Prometheus metrics of the SDK: names, labels, exactness, sharing a registry."""

from __future__ import annotations

import math
import sys
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.process_collector import ProcessCollector

from keeneye.sdk import DROP_REASONS, Monitor
from keeneye.sdk.metrics import (
    MAX_CLASSES,
    MAX_PENDING,
    OTHER_CLASS,
    VALUE_BUCKETS,
    ModelMetrics,
    observe_all,
)


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {"model": "churn", "version": "3", **labels})


def make(registry: CollectorRegistry, url: str, **kw: object) -> Monitor:
    # flush_interval is long so nothing is sent during the test: only metrics are looked at
    return Monitor("churn", "3", url=url, registry=registry, flush_interval=3600, **kw)  # type: ignore[arg-type]


def test_classification_metrics(registry: CollectorRegistry, dead_url: str) -> None:
    with make(registry, dead_url, max_retries=0) as m:
        for i in range(10):
            m.log({"x": i}, "yes" if i < 7 else "no", probabilities={"no": 0.2, "yes": 0.8})
        m.log({"x": 1}, "no", probabilities=[0.9, 0.1])
    assert value(registry, "keeneye_predictions_total") == 11
    assert value(registry, "keeneye_predicted_class_total", **{"class": "yes"}) == 7
    assert value(registry, "keeneye_predicted_class_total", **{"class": "no"}) == 4
    assert value(registry, "keeneye_prediction_confidence_count") == 11
    assert value(registry, "keeneye_prediction_confidence_sum") == pytest.approx(10 * 0.8 + 0.9)
    assert value(registry, "keeneye_model_info") == 1


def test_regression_metrics_and_nonfinite(registry: CollectorRegistry, dead_url: str) -> None:
    with make(registry, dead_url, max_retries=0) as m:
        for v in (0.5, 1.5, np.float32(2.5), math.nan, math.inf, -math.inf):
            m.log({"x": 1}, v, latency_seconds=0.002)
    assert value(registry, "keeneye_predictions_total") == 6
    assert value(registry, "keeneye_prediction_value_count") == 3
    assert value(registry, "keeneye_prediction_value_sum") == pytest.approx(4.5)
    assert value(registry, "keeneye_nonfinite_predictions_total") == 3
    assert value(registry, "keeneye_prediction_latency_seconds_count") == 6
    assert value(registry, "keeneye_prediction_latency_seconds_bucket", le="0.0025") == 6


def test_task_overrides_auto(registry: CollectorRegistry, dead_url: str) -> None:
    with make(registry, dead_url, task="classification", max_retries=0) as m:
        m.log({"x": 1}, 1.0)
    assert value(registry, "keeneye_predicted_class_total", **{"class": "1.0"}) == 1
    other = CollectorRegistry()
    with make(other, dead_url, task="regression", max_retries=0) as m:
        m.log({"x": 1}, 3)
    assert value(other, "keeneye_prediction_value_sum") == 3


def test_errors_counted_by_exception_and_reraised_unchanged(
    registry: CollectorRegistry, dead_url: str
) -> None:
    with make(registry, dead_url, max_retries=0) as m:
        boom = KeyError("no such feature")

        @m.watch
        def predict(record: dict) -> float:
            if record["x"] < 0:
                raise boom
            return 0.5

        for x in (-1, -2, 3):
            try:
                predict({"x": x})
            except KeyError as exc:
                assert exc is boom
    assert value(registry, "keeneye_prediction_errors_total", exception="KeyError") == 2
    assert value(registry, "keeneye_predictions_total") == 1


def test_two_monitors_share_one_registry(registry: CollectorRegistry, dead_url: str) -> None:
    with (
        make(registry, dead_url, max_retries=0) as a,
        Monitor(
            "churn", "4", url=dead_url, registry=registry, flush_interval=3600, max_retries=0
        ) as b,
    ):
        a.log({"x": 1}, 0.1)
        b.log({"x": 1}, 0.1)
        b.log({"x": 1}, 0.1)
    assert value(registry, "keeneye_predictions_total") == 1
    assert (
        registry.get_sample_value("keeneye_predictions_total", {"model": "churn", "version": "4"})
        == 2
    )
    assert value(registry, "keeneye_model_info") == 1
    assert registry.get_sample_value("keeneye_model_info", {"model": "churn", "version": "4"}) == 1


def test_every_drop_reason_is_exported_from_zero(registry: CollectorRegistry) -> None:
    ModelMetrics(registry, "churn", "3")
    for reason in DROP_REASONS:
        assert value(registry, "keeneye_sdk_dropped_events_total", reason=reason) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process metrics need /proc")
def test_process_collector_on_user_registry_once(registry: CollectorRegistry) -> None:
    ModelMetrics(registry, "churn", "3")
    assert registry.get_sample_value("process_cpu_seconds_total") is not None
    assert registry.get_sample_value("process_resident_memory_bytes") > 0  # type: ignore[operator]
    own = CollectorRegistry()
    ProcessCollector(registry=own)  # the user's own: keeneye must not fail or add a second
    ModelMetrics(own, "churn", "3")
    assert own.get_sample_value("process_cpu_seconds_total") is not None


def test_value_buckets_conflict_is_an_error(registry: CollectorRegistry) -> None:
    ModelMetrics(registry, "churn", "3", value_buckets=[0.0, 1.0])
    ModelMetrics(registry, "churn", "4", value_buckets=[0.0, 1.0])
    with pytest.raises(ValueError, match="differ from"):
        ModelMetrics(registry, "churn", "5", value_buckets=[0.0, 2.0])


def test_class_label_cardinality_is_capped(registry: CollectorRegistry) -> None:
    m = ModelMetrics(registry, "churn", "3")
    for i in range(MAX_CLASSES + 50):
        m.count_class(f"c{i}")
    assert value(registry, "keeneye_predicted_class_total", **{"class": OTHER_CLASS}) == 50
    assert len(m._classes) == MAX_CLASSES


def test_metrics_exact_under_sampling(registry: CollectorRegistry, dead_url: str) -> None:
    with make(registry, dead_url, sample_rate=0.25, max_retries=0, queue_size=100_000) as m:
        ids = [m.log({"x": i}, 0.5, event_id=f"e{i}") for i in range(4000)]
        stats = m.stats()
        # a label is shipped exactly when its prediction was (same hash of the event id)
        for eid in ids:
            m.log_label(eid, 1)
        after = m.stats()
    assert value(registry, "keeneye_predictions_total") == 4000
    shipped = stats["offered"]
    assert stats["sampled_out"] == 4000 - shipped
    # the rule, checked independently: crc32 of the id below rate * 2**32
    assert shipped == sum(zlib.crc32(e.encode()) < 2**30 for e in ids)
    assert 800 < shipped < 1200  # and it behaves like Binomial(4000, 0.25): mean 1000, sd 27
    assert after["offered"] == 2 * shipped
    assert after["sampled_out"] == 2 * (4000 - shipped)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.one_of(
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            st.sampled_from([0.0, 0.1, 0.25, 1.0, 10000.0, math.inf]),  # on the bucket bounds
        ),
        max_size=200,
    )
)
def test_bulk_counting_equals_one_observe_per_value(values: list[float]) -> None:
    one, bulk = CollectorRegistry(), CollectorRegistry()
    by_one = Histogram("h", "doc", buckets=VALUE_BUCKETS, registry=one)
    by_bulk = Histogram("h", "doc", buckets=VALUE_BUCKETS, registry=bulk)
    for v in values:
        by_one.observe(v)
    observe_all(by_bulk, values)
    expected = {
        (s.name, tuple(s.labels.items())): s.value for s in next(iter(one.collect())).samples
    }
    got = {(s.name, tuple(s.labels.items())): s.value for s in next(iter(bulk.collect())).samples}
    assert got.keys() == expected.keys()
    for key, v in expected.items():
        assert got[key] == pytest.approx(v, rel=1e-9, abs=1e-6), key


def test_a_scrape_sees_every_prediction_logged_before_it(
    registry: CollectorRegistry, dead_url: str
) -> None:
    # the sender never takes a batch here: counting happens on the scrape itself
    with make(registry, dead_url, batch_size=10**6, queue_size=10**6, max_retries=0) as m:

        @m.watch
        def predict(record: dict) -> float:
            return record["x"] * 2.0

        for i in range(100):
            predict({"x": float(i)})
        assert len(m._m.pending) == 100  # not counted yet: nothing read the metrics
        assert value(registry, "keeneye_predictions_total") == 100
        assert not m._m.pending
        assert value(registry, "keeneye_prediction_latency_seconds_count") == 100
        assert value(registry, "keeneye_prediction_value_sum") == sum(2.0 * i for i in range(100))
        m.close(timeout=0)


def test_pending_predictions_stay_bounded_without_a_scrape(
    registry: CollectorRegistry, dead_url: str
) -> None:
    # everything is sampled out: the sender never wakes, the predicting thread counts itself
    with make(registry, dead_url, sample_rate=1e-9, max_retries=0) as m:
        for i in range(3 * MAX_PENDING):
            m.log({"x": i}, 0.5)
            assert len(m._m.pending) <= MAX_PENDING
        assert value(registry, "keeneye_predictions_total") == 3 * MAX_PENDING
