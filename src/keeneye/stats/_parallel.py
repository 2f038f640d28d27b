"""Run independent per-column work on a few threads.

numpy's sort, searchsorted and element-wise kernels release the GIL, so columns of a wide
table can be processed concurrently. Small inputs stay on the calling thread, where a pool
would cost more than it saves. Results keep the order of the inputs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many values in total, columns are processed on the calling thread.
MIN_PARALLEL_VALUES = 200_000
#: Upper bound on threads: memory grows with the columns in flight.
MAX_WORKERS = 4


def map_columns(func: Callable[[T], R], items: Sequence[T], total_values: int) -> list[R]:
    """``[func(item) for item in items]``, on threads when the work is large enough."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1, len(items))
    if workers < 2 or total_values < MIN_PARALLEL_VALUES:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keeneye-stats") as pool:
        return list(pool.map(func, items))
