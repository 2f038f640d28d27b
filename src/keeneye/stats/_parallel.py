"""Run independent per-column work on a few threads.

numpy's sort, searchsorted and element-wise kernels, Arrow's compute kernels and the compiled
merge release the GIL, so columns of a wide table can be processed concurrently. Small inputs
stay on the calling thread, where a pool would cost more than it saves. Results keep the order
of the inputs.

The threads are started once per process and kept (a comparison maps its columns several
times; starting and joining threads each time costs about a millisecond). Work submitted from
one of these threads runs on that thread (a job waiting for jobs queued behind it could wait
forever); a child process made by ``fork`` starts its own threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many values in total, columns are processed on the calling thread.
MIN_PARALLEL_VALUES = 200_000
#: Upper bound on threads: memory grows with the columns in flight.
MAX_WORKERS = 4

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_local = threading.local()


def _mark_worker() -> None:
    _local.worker = True


def _shared_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid():  # first use, or a forked child
            _pool = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="keeneye-stats", initializer=_mark_worker
            )
            _pool_pid = os.getpid()
        return _pool


def map_columns(func: Callable[[T], R], items: Sequence[T], total_values: int) -> list[R]:
    """``[func(item) for item in items]``, on threads when the work is large enough."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if (
        min(workers, len(items)) < 2
        or total_values < MIN_PARALLEL_VALUES
        or getattr(_local, "worker", False)
    ):
        return [func(item) for item in items]
    return list(_shared_pool(workers).map(func, items))
