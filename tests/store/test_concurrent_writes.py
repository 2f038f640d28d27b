"""Conformance: batches written by concurrent threads (the collector's request threads) are
stored as if written one after the other — whatever the backend groups into one transaction."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.store.conftest import T0

from keeneye.store import EventStore, PredictionEvent, WriteReport

THREADS = 4
BATCHES = 8
PER_BATCH = 40


def _batch(thread: int, number: int) -> list[PredictionEvent]:
    events = []
    for k in range(PER_BATCH):
        i = (thread * BATCHES + number) * PER_BATCH + k
        inputs: dict[str, object] = {"x": float(i), "plan": f"p{i % 3}"}
        if thread == 0 and number == 5:
            inputs["extra"] = i  # a new feature in the middle of the load
        if thread == 2 and number == 3 and k == 7:
            inputs["x"] = "oops"  # one value of the wrong type
        events.append(
            PredictionEvent(f"e{i}", str(1 + thread % 2), T0 + timedelta(seconds=i), inputs, 0.5)
        )
    return events


def test_concurrent_batches_are_each_stored_once_with_their_own_report(
    store: EventStore,
) -> None:
    store.write_predictions("m", _batch(0, 0)[:1])  # the model exists: the steady state
    start = threading.Barrier(THREADS)
    reports: dict[tuple[int, int], WriteReport] = {}
    errors: list[BaseException] = []

    def writer(thread: int) -> None:
        start.wait()
        try:
            for number in range(BATCHES):
                reports[thread, number] = store.write_predictions("m", _batch(thread, number))
            if thread == 1:  # a client retrying a batch that was acknowledged
                reports[thread, BATCHES] = store.write_predictions("m", _batch(1, 3))
        except BaseException as exc:  # surfaced below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    total = THREADS * BATCHES * PER_BATCH
    assert reports[0, 0].stored == PER_BATCH - 1  # its first event was written before
    assert reports[0, 0].duplicates == 1
    assert reports[1, BATCHES].stored == 0
    assert reports[1, BATCHES].duplicates == PER_BATCH
    assert sum(r.stored for r in reports.values()) == total - 1
    assert reports[2, 3].invalid_values == {"x": 1}
    assert all(r.invalid_values == {} for key, r in reports.items() if key != (2, 3))

    data = store.read_window("m", T0, T0 + timedelta(days=1))
    assert data.features.num_rows == total
    ids = data.events.column("event_id").to_pylist()
    assert sorted(ids) == sorted(f"e{i}" for i in range(total))
    by_id = dict(zip(ids, data.features.column("x").to_pylist(), strict=True))
    bad = (2 * BATCHES + 3) * PER_BATCH + 7
    assert by_id[f"e{bad}"] is None
    assert all(by_id[f"e{i}"] == float(i) for i in range(total) if i != bad)
    extra = dict(zip(ids, data.features.column("extra").to_pylist(), strict=True))
    assert sum(value is not None for value in extra.values()) == PER_BATCH
