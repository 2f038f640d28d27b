"""map_columns: inputs' order kept, work nested in a job runs in place, a forked child works."""

from __future__ import annotations

import os
import threading
import warnings

import pytest

from keeneye.stats import _parallel


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "MIN_PARALLEL_VALUES", 1)
    monkeypatch.setattr(_parallel.os, "cpu_count", lambda: 2)


def test_results_keep_the_order_of_the_inputs(threaded: None) -> None:
    assert _parallel.map_columns(lambda x: x * x, list(range(50)), 50) == [x * x for x in range(50)]


def test_work_mapped_inside_a_job_runs_on_that_thread(threaded: None) -> None:
    """Every worker busy with a job that maps again must not wait for itself."""

    def outer(x: int) -> tuple[int, set[int]]:
        seen: set[int] = set()

        def inner(y: int) -> int:
            seen.add(threading.get_ident())
            return x + y

        total = sum(_parallel.map_columns(inner, [1, 2, 3], 3))
        return total, seen

    results = _parallel.map_columns(outer, [10, 20, 30, 40], 4)
    assert [total for total, _ in results] == [36, 66, 96, 126]
    assert all(len(seen) == 1 for _, seen in results)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_starts_its_own_threads(threaded: None) -> None:
    _parallel.map_columns(abs, [-1, -2], 2)  # the parent's threads exist
    read, write = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns about fork with threads running
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: its own threads, or this would hang
        try:
            os.write(write, repr(_parallel.map_columns(abs, [-3, -4], 2)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        assert pipe.read() == "[3, 4]"
    assert os.waitpid(pid, 0)[1] == 0
