"""Monitor behaviour that needs no collector: a dead port stands for a collector that is down."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import warnings
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry

from keeneye.errors import CollectorError, InputError
from keeneye.sdk import Monitor


def dropped(registry: CollectorRegistry, reason: str) -> float | None:
    return registry.get_sample_value(
        "keeneye_sdk_dropped_events_total", {"model": "churn", "version": "3", "reason": reason}
    )


def idle_monitor(registry: CollectorRegistry, url: str, **kw: object) -> Monitor:
    """A monitor whose sender never finds a batch due (huge batch, hour-long interval)."""
    return Monitor(
        "churn",
        "3",
        url=url,
        registry=registry,
        batch_size=10**6,
        flush_interval=3600,
        max_retries=0,
        **kw,  # type: ignore[arg-type]
    )


def balanced(stats: dict) -> bool:
    return stats["offered"] == stats["sent"] + sum(stats["dropped"].values()) + stats["pending"]


def test_full_queue_drops_and_counts_without_blocking(
    registry: CollectorRegistry, dead_url: str
) -> None:
    m = idle_monitor(registry, dead_url, queue_size=5)
    ids = [m.log({"x": i}, 0.5) for i in range(12)]
    assert len(set(ids)) == 12
    s = m.stats()
    assert s["pending"] == 5 and s["dropped"]["queue_full"] == 7 and balanced(s)
    assert dropped(registry, "queue_full") == 7
    assert (
        registry.get_sample_value("keeneye_sdk_queue_events", {"model": "churn", "version": "3"})
        == 5
    )
    m.close(timeout=5)  # collector down, max_retries=0: the 5 are given up as retries_exhausted
    s = m.stats()
    assert s["pending"] == 0 and s["dropped"]["retries_exhausted"] == 5 and balanced(s)
    m.log({"x": 1}, 0.5)  # after close: counted, not raised
    assert m.stats()["dropped"]["shutdown"] == 1


def test_close_counts_undelivered_as_shutdown(registry: CollectorRegistry, dead_url: str) -> None:
    m = Monitor(
        "churn",
        "3",
        url=dead_url,
        registry=registry,
        flush_interval=0.01,
        max_retries=None,
        backoff_base=0.01,
        backoff_cap=0.05,
    )
    for i in range(20):
        m.log({"x": i}, 0.5)
    assert m.flush(timeout=0.3) is False  # down and retrying forever: cannot drain
    m.close(timeout=0.2)
    s = m.stats()
    assert s["dropped"]["shutdown"] == 20 and s["pending"] == 0 and balanced(s)


def test_watch_returns_normally_while_collector_is_down(
    registry: CollectorRegistry, dead_url: str
) -> None:
    with Monitor(
        "churn",
        "3",
        url=dead_url,
        registry=registry,
        queue_size=50,
        batch_size=10,
        flush_interval=0.01,
        backoff_base=0.01,
        backoff_cap=0.02,
        max_retries=1,
    ) as m:

        @m.watch
        def predict(record: dict) -> float:
            return record["a"] * 2.0

        results = [predict({"a": float(i)}) for i in range(500)]
        assert results == [i * 2.0 for i in range(500)]
        m.flush(timeout=5)
        s = m.stats()
    assert s["sent"] == 0 and s["offered"] == 500 and balanced(s)
    assert dropped(registry, "queue_full") + dropped(registry, "retries_exhausted") == 500  # type: ignore[operator]


def test_queue_size_bounds_events_queued_and_in_flight(
    registry: CollectorRegistry, dead_url: str
) -> None:
    # the collector is down and retried slowly: batches stay in flight, the rest queues
    m = Monitor(
        "churn",
        "3",
        url=dead_url,
        registry=registry,
        queue_size=50,
        batch_size=10,
        max_batch_size=20,
        flush_interval=0.01,
        backoff_base=30,
        backoff_cap=30,
        max_retries=None,
    )
    for i in range(500):
        m.log({"a": float(i)}, 0.5)
        assert m.stats()["pending"] <= 50
    s = m.stats()
    m.close(timeout=0)
    assert s["sent"] == 0 and s["offered"] == 500
    assert s["dropped"]["queue_full"] == 500 - s["pending"]
    assert m.stats()["dropped"]["shutdown"] == s["pending"]


def test_watch_batches_and_ids(registry: CollectorRegistry, dead_url: str) -> None:
    with idle_monitor(registry, dead_url) as m:

        @m.watch(feature_names=["a", "b"])
        def predict(x: np.ndarray) -> np.ndarray:
            return x.sum(axis=1)

        assert predict(np.ones((4, 2))).tolist() == [2.0] * 4
        assert len(m.last_event_ids()) == 4
        assert m.stats()["offered"] == 4

        @m.watch(id_key="request_id")
        def predict_df(df: pd.DataFrame) -> list[str]:
            return ["yes"] * len(df)

        predict_df(pd.DataFrame({"request_id": ["r1", "r2"], "a": [1, 2]}))
        assert m.last_event_ids() == ("r1", "r2")
        assert (
            registry.get_sample_value(
                "keeneye_predictions_total", {"model": "churn", "version": "3"}
            )
            == 6
        )
        m.close(timeout=0)


def test_watch_method_and_predict_proba_hook(registry: CollectorRegistry, dead_url: str) -> None:
    class Model:
        classes_ = np.array(["no", "yes"])

        def predict_proba(self, rows: list[dict]) -> np.ndarray:
            return np.array([[0.3, 0.7]] * len(rows))

    model = Model()
    with idle_monitor(registry, dead_url) as m:

        class Server:
            @m.watch(predict_proba=model.predict_proba)
            def predict(self, rows: list[dict]) -> list[str]:
                return ["yes"] * len(rows)

        assert Server().predict([{"a": 1}, {"a": 2}]) == ["yes", "yes"]
        item = m._transport._queue[0]
        assert item[3] == {"a": 1} and item[4] == "yes"
        assert item[5] == {"no": 0.3, "yes": 0.7}
        assert registry.get_sample_value(
            "keeneye_prediction_confidence_sum", {"model": "churn", "version": "3"}
        ) == pytest.approx(1.4)
        m.close(timeout=0)


def test_result_envelope_with_probabilities(registry: CollectorRegistry, dead_url: str) -> None:
    with idle_monitor(registry, dead_url) as m:

        @m.watch
        def predict(record: dict) -> dict:
            return {"prediction": "yes", "probabilities": {"no": 0.1, "yes": 0.9}}

        predict({"a": 1})
        item = m._transport._queue[0]
        assert item[4] == "yes" and item[5] == {"no": 0.1, "yes": 0.9}
        m.close(timeout=0)


def test_monitoring_failures_are_counted_not_raised(
    registry: CollectorRegistry, dead_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with idle_monitor(registry, dead_url) as m:

        @m.watch
        def predict(rows: list[dict]) -> list[float]:
            return [0.5]  # one prediction for two rows: a bug of the caller, not fatal

        with caplog.at_level(logging.WARNING, logger="keeneye.sdk"):
            assert predict([{"a": 1}, {"a": 2}]) == [0.5]
            assert predict([{"a": 1}, {"a": 2}]) == [0.5]
        assert dropped(registry, "invalid_input") == 4
        assert (
            sum("predict returned 1 values for 2 input rows" in r.message for r in caplog.records)
            == 1
        )

        @m.watch
        def multi_output(record: dict) -> list[float]:
            return [1.0, 2.0]  # not a scalar: cannot travel as a prediction

        assert multi_output({"a": 1}) == [1.0, 2.0]
        assert m.flush(timeout=5)
        assert dropped(registry, "serialization") == 1


async def _async_calls(m: Monitor) -> list[float]:
    @m.watch
    async def predict(record: dict) -> float:
        await asyncio.sleep(0)
        return record["a"] + 1.0

    ids: list[tuple[str, ...]] = []

    async def one(i: int) -> float:
        out = await predict({"a": float(i)})
        ids.append(m.last_event_ids())  # per task: each sees its own call's id
        return out

    results = await asyncio.gather(*(one(i) for i in range(50)))
    assert len({i for t in ids for i in t}) == 50
    return list(results)


def test_async_watch(registry: CollectorRegistry, dead_url: str) -> None:
    with idle_monitor(registry, dead_url) as m:
        assert asyncio.run(_async_calls(m)) == [i + 1.0 for i in range(50)]
        assert m.stats()["offered"] == 50
        m.close(timeout=0)


def test_threads_share_one_monitor(registry: CollectorRegistry, dead_url: str) -> None:
    m = idle_monitor(registry, dead_url, queue_size=10**6)

    @m.watch
    def predict(record: dict) -> int:
        return record["a"] % 3

    def work() -> None:
        for i in range(1000):
            predict({"a": i})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert m.stats()["offered"] == 4000 and m.stats()["pending"] == 4000
    total = sum(
        registry.get_sample_value(
            "keeneye_predicted_class_total", {"model": "churn", "version": "3", "class": str(c)}
        )
        or 0
        for c in range(3)
    )
    assert total == 4000
    m.close(timeout=0)


def test_fork_child_starts_with_a_fresh_queue(registry: CollectorRegistry, dead_url: str) -> None:
    m = idle_monitor(registry, dead_url)
    for i in range(3):
        m.log({"x": i}, 0.5)
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # child: must not resend the parent's 3, must work on its own
        code = 1
        try:
            child_id = m.log({"x": 9}, 0.5)
            os.write(write, bytes.fromhex(child_id))
            s = m.stats()
            ok = s["offered"] == 1 and s["pending"] == 1 and m._transport._thread is not None
            # the parent's uncounted predictions are the parent's; the child counts its own
            labels = {"model": "churn", "version": "3"}
            ok = ok and registry.get_sample_value("keeneye_predictions_total", labels) == 1.0
            code = 0 if ok and m._transport._thread.is_alive() else 2
        finally:
            os.write(write, bytes([code]))
            os._exit(0)
    os.close(write)
    child_id = os.read(read, 16).hex()
    status = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert status == bytes([0])
    assert m.stats()["pending"] == 3
    # the child draws its own random prefix: its ids never repeat the parent's
    parent_id = m.log({"x": 9}, 0.5)
    assert len(child_id) == 32 and child_id[:16] != parent_id[:16]
    m.close(timeout=0)


def test_log_argument_errors(registry: CollectorRegistry, dead_url: str) -> None:
    with idle_monitor(registry, dead_url) as m:
        with pytest.raises(InputError, match="has no timezone"):
            m.log({"x": 1}, 1, timestamp=datetime(2026, 1, 1))
        with pytest.raises(InputError, match="event_id=5 must be a non-empty string"):
            m.log({"x": 1}, 1, event_id=5)  # type: ignore[arg-type]
        with pytest.raises(InputError, match="log\\(\\) takes one record, got 2 rows"):
            m.log([{"x": 1}, {"x": 2}], 1)  # type: ignore[arg-type]
        eid = m.log(
            {"x": 1}, 1, event_id="mine", timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc)
        )
        assert eid == "mine"
        assert m._transport._queue[0][2] == datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
        m.close(timeout=0)


def test_injected_clock_stamps_events(registry: CollectorRegistry, dead_url: str) -> None:
    with idle_monitor(registry, dead_url, clock=lambda: 1234.5) as m:
        m.log({"x": 1}, 1)
        m.log_label("e", 1)
        assert [item[2] for item in m._transport._queue] == [1234.5, 1234.5]
        m.close(timeout=0)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"sample_rate": 0}, "sample_rate=0 must be in"),
        ({"queue_size": 0}, "queue_size=0 must be"),
        ({"max_batch_size": 0}, "max_batch_size=0 must be an integer > 0"),
        ({"task": "ranking"}, "task='ranking' must be one of"),
        ({"url": "127.0.0.1"}, "must start with"),
        ({"max_retries": -1}, "max_retries=-1"),
        ({"flush_interval": "1"}, "flush_interval='1'"),
    ],
)
def test_constructor_checks(registry: CollectorRegistry, kw: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Monitor("churn", "3", registry=registry, **kw)


def test_watch_input_arg_errors(registry: CollectorRegistry, dead_url: str) -> None:
    with idle_monitor(registry, dead_url) as m:
        with pytest.raises(InputError, match="input_arg='features' is not a parameter"):
            m.watch(lambda record: 1, input_arg="features")
        with pytest.raises(InputError, match="takes no named argument"):
            m.watch(lambda: 1)
        m.close(timeout=0)


def test_register_version_collector_down(registry: CollectorRegistry, dead_url: str) -> None:
    with idle_monitor(registry, dead_url) as m:
        with pytest.raises(CollectorError, match="could not reach the collector"):
            m.register_version(training_data="dvc:abc")
        m.close(timeout=0)
