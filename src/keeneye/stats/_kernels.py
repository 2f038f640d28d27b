"""Compiled kernels for the drift engine's hot loops, with pure-numpy fallbacks.

The one kernel that matters: the counts of a sorted reference at or below each of a sorted
window's values. ``np.searchsorted`` answers that with one binary search per value
(O(m log n), cache-hostile at a million rows); both inputs are sorted, so one linear merge
does it in O(n + m) sequential reads. The merge gallops (doubles its step, then bisects)
when the reference runs far ahead of the window, so a small window against a large
reference stays O(m log(n / m)).

The kernel is compiled with numba (the optional ``fast`` extra) on first use, with
``nogil`` so the columns of a wide table run on several cores at once
(:mod:`keeneye.stats._parallel`). Without numba — or with ``KEENEYE_NO_NUMBA=1`` — the same
counts come from ``np.searchsorted``. The results are integers: both paths return the very
same array, which the tests check.

numba is imported only when a window is large enough to use it: a small comparison (and the
CLI's start-up) never pays for the import or the compilation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Windows with fewer distinct values than this use ``np.searchsorted`` (no numba import).
KERNEL_FROM = 16_384
#: Set to ``1`` to never use the compiled kernel (the numpy path gives the same counts).
DISABLE_ENV = "KEENEYE_NO_NUMBA"

_Kernel = Callable[[FloatArray, FloatArray, IntArray], None]
_IntegralKernel = Callable[[FloatArray, FloatArray], None]
_compiled: _Kernel | None = None
_compiled_integral: _IntegralKernel | None = None
_unavailable = False
_forced_off = 0

#: Linear steps per key before the merge switches to galloping.
_LINEAR_STEPS = 8


def _merge_counts_python(reference: FloatArray, keys: FloatArray, out: IntArray) -> None:
    """The merge itself (compiled by numba; also correct, if slow, as plain Python).

    ``out[i]`` = #reference ≤ keys[i] for sorted ``reference`` and sorted ``keys``. One
    forward pointer; it advances a few steps linearly (the common case: both samples from
    similar distributions), then gallops — doubles its step while the value it lands on is
    still ≤ the key, and bisects the last doubling.
    """
    n = reference.shape[0]
    hi = 0  # #reference <= current key, nondecreasing
    for i in range(keys.shape[0]):
        key = keys[i]
        steps = 0
        while steps < _LINEAR_STEPS and hi < n and reference[hi] <= key:
            hi += 1
            steps += 1
        if steps == _LINEAR_STEPS and hi < n and reference[hi] <= key:
            step = 1
            while hi + step < n and reference[hi + step] <= key:
                step *= 2
            left = hi + step // 2 + 1  # reference[left - 1] <= key
            right = min(hi + step, n)  # reference[right] > key, or right == n
            while left < right:
                mid = (left + right) // 2
                if reference[mid] <= key:
                    left = mid + 1
                else:
                    right = mid
            hi = left
        out[i] = hi


def _ecdf_integral_python(values: FloatArray, out: FloatArray) -> None:
    """G[i] = Σ_{j<i} (values[j+1] − values[j])·(j+1)/n: the running integral of the ECDF.

    The very float operations, in the same order, as the numpy formulation in
    :func:`keeneye.stats._ecdf.prepare` (difference, times ``(j+1)/n``, running sum), so the
    result is bit-for-bit the same — without its three reference-sized temporaries.
    """
    n = values.shape[0]
    out[0] = 0.0
    total = 0.0
    for i in range(1, n):
        total += (values[i] - values[i - 1]) * (float(i) / n)
        out[i] = total


def _kernel() -> _Kernel | None:
    """The compiled merge, or ``None`` when numba is missing or disabled."""
    global _compiled, _compiled_integral, _unavailable
    if _forced_off or os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    if _compiled is not None or _unavailable:
        return _compiled
    try:
        import numba
    except ImportError:
        _unavailable = True
        return None
    jit: Any = numba.njit(nogil=True, cache=True, boundscheck=False)
    _compiled_integral = jit(_ecdf_integral_python)
    _compiled = jit(_merge_counts_python)
    return _compiled


def ecdf_integral_compiled(sorted_values: FloatArray) -> FloatArray | None:
    """The running ECDF integral by the compiled loop; ``None`` without numba.

    >>> out = ecdf_integral_compiled(np.array([0.0, 1.0, 3.0, 4.0]))
    >>> out is None or out.tolist() == [0.0, 0.25, 1.25, 2.0]
    True
    """
    if _kernel() is None or _compiled_integral is None:
        return None
    values = np.ascontiguousarray(sorted_values, dtype=np.float64)
    out = np.empty(values.size, dtype=np.float64)
    _compiled_integral(values, out)
    return out


@contextmanager
def numpy_only() -> Iterator[None]:
    """Within the block the numpy paths are used (to check that both give the same results).

    >>> with numpy_only():
    ...     kernel_available()
    False
    """
    global _forced_off
    _forced_off += 1
    try:
        yield
    finally:
        _forced_off -= 1


def kernel_available() -> bool:
    """Whether the compiled merge is used (numba installed and not disabled)."""
    return _kernel() is not None


def count_at_or_below_numpy(sorted_reference: FloatArray, sorted_keys: FloatArray) -> IntArray:
    """#reference ≤ key for every key, by ``np.searchsorted``.

    >>> ref = np.array([1.0, 2.0, 2.0, 3.0])
    >>> count_at_or_below_numpy(ref, np.array([0.0, 2.0, 5.0])).tolist()
    [0, 3, 4]
    """
    return np.searchsorted(sorted_reference, sorted_keys, side="right").astype(np.int64)


def count_at_or_below_compiled(
    sorted_reference: FloatArray, sorted_keys: FloatArray
) -> IntArray | None:
    """:func:`count_at_or_below_numpy` by the compiled linear merge; ``None`` without numba.

    >>> ref = np.array([1.0, 2.0, 2.0, 3.0])
    >>> counts = count_at_or_below_compiled(ref, np.array([0.0, 2.0, 5.0]))
    >>> counts is None or counts.tolist() == [0, 3, 4]
    True
    """
    kernel = _kernel()
    if kernel is None:
        return None
    reference = np.ascontiguousarray(sorted_reference, dtype=np.float64)
    keys = np.ascontiguousarray(sorted_keys, dtype=np.float64)
    out = np.empty(keys.size, dtype=np.int64)
    kernel(reference, keys, out)
    return out
