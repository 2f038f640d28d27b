"""Conformance: acknowledged writes survive a killed process; concurrent threads are safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

from tests.store.conftest import T0, Backend

from keeneye.store import EventStore, PredictionEvent, open_store

WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime, timedelta, timezone
    from keeneye.store import PredictionEvent, open_store

    store = open_store(sys.argv[1])
    t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    for batch in range(int(sys.argv[2])):
        events = [PredictionEvent(f"b{batch}-{i}", "1", t0 + timedelta(seconds=batch),
                                  {"x": float(i), "c": "k"}, 0.5) for i in range(100)]
        store.write_predictions("m", events)
        print(f"acked {batch}", flush=True)  # printed only after COMMIT returned
    time.sleep(600)  # keep the file open, as a live server would, until killed
    """
)


def test_committed_batches_survive_sigkill(tmp_path: Path, backend: Backend) -> None:
    location = backend.location(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, location, "5"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        acked = [proc.stdout.readline().strip() for _ in range(5)]
        assert acked == [f"acked {b}" for b in range(5)]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    store = open_store(location)
    try:
        summary = store.model_summary("m")
        assert summary.events == 500
        data = store.read_window("m", T0, T0 + timedelta(hours=1))
        assert sorted(set(data.features.column("x").to_pylist())) == [float(i) for i in range(100)]
        # The reopened store keeps working: new columns, new rows.
        store.write_predictions("m", [PredictionEvent("new", "1", T0, {"y": 1}, 1)])
        assert store.model_summary("m").events == 501
    finally:
        store.close()


def test_concurrent_writers_and_readers(store: EventStore) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for batch in range(10):
                store.write_predictions(
                    "m",
                    [
                        PredictionEvent(
                            f"w{worker}-{batch}-{i}",
                            "1",
                            T0 + timedelta(seconds=i),
                            {"x": i, f"f{worker}": "v"},
                            1,
                        )
                        for i in range(50)
                    ],
                )
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(20):
                if store.list_models():
                    store.read_window("m", T0, T0 + timedelta(hours=1))
                    store.invalid_value_counts("m", T0, T0 + timedelta(hours=1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.model_summary("m").events == 4 * 10 * 50
    assert set(store.feature_types("m")) == {"x", "f0", "f1", "f2", "f3"}
