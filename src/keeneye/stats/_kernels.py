"""Compiled kernels for the drift engine's hot loops, with pure-numpy fallbacks.

Two kernels, both over sorted arrays:

* :func:`merge_statistics` — one merge of a sorted reference and a sorted window that gives
  scipy's KS statistic (bit for bit: the same float operations on the same integer counts)
  and the Wasserstein-1 distance (to about 1e-15 relative; scipy sums its terms in another
  order) in O(n + m) sequential reads, split into independent stretches that one loop
  advances together (:mod:`keeneye.stats._compiled`).
* :func:`count_at_or_below_compiled` — the counts of a sorted reference at or below each of a
  sorted window's values. ``np.searchsorted`` answers that with one binary search per value
  (O(m log n), cache-hostile at a million rows); the merge gallops (doubles its step, then
  bisects) when the reference runs far ahead of the window, so a small window against a
  large reference stays O(m log(n / m)).

The kernels are compiled with numba (the optional ``fast`` extra) with ``nogil`` so the
columns of a wide table run on several cores at once (:mod:`keeneye.stats._parallel`), and
cached on disk. Without numba — or with ``KEENEYE_NO_NUMBA=1`` — the numpy formulations in
:mod:`keeneye.stats._ecdf` run instead (the same KS to the bit, the same counts).

numba is imported only when a window is large enough to use it: a small comparison (and the
CLI's start-up) never pays for the import.

The merge reads one element past the end of each array instead of checking bounds: its
inputs carry a ``+inf`` sentinel there (:func:`sort_with_sentinel`, :func:`with_sentinel`).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Windows with fewer values than this use the numpy paths (no numba import).
KERNEL_FROM = 16_384
#: The merge reads the whole reference: it is used while the reference has at most this many
#: times the window's values (beyond, the window's values are looked up in the reference).
MERGE_RATIO = 16
#: Set to ``1`` to never use the compiled kernels (the numpy paths give the same results).
DISABLE_ENV = "KEENEYE_NO_NUMBA"

_module: ModuleType | None = None
_unavailable = False
_forced_off = 0

#: Linear steps per key before the merge switches to galloping.
_LINEAR_STEPS = 8
#: The Wasserstein sum's terms are |i·n2 − j·n1|·Δx; values are scaled (by a power of two,
#: exactly) when these could exceed 2**_SAFE_EXPONENT (their sum stays below the largest float).
_SAFE_EXPONENT = 1000


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


def _kernel() -> ModuleType | None:
    """The compiled kernels' module, or ``None`` when numba is missing or disabled."""
    global _module, _unavailable
    if _forced_off or os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    if _module is not None or _unavailable:
        return _module
    try:
        from keeneye.stats import _compiled
    except ImportError:
        _unavailable = True
        return None
    _module = _compiled
    return _module


_preloading: threading.Thread | None = None


def _warm() -> None:
    kernels = _kernel()
    if kernels is None:
        return
    # The first call of each kernel loads its machine code from the on-disk cache.
    padded = np.array([0.0, 1.0, np.inf])
    merge_statistics(padded, padded)
    moments_compiled(padded[:2])
    sorted_moments_compiled(padded[:2])
    count_at_or_below_compiled(padded[:2], padded[:1])


def preload() -> None:
    """Start loading numba and the cached kernels on a background thread.

    A process's first large comparison would otherwise wait for it (≈ 0.35 s of CPU); called
    as soon as a large input is seen, the load overlaps the work that precedes the first merge
    (reading, kind inference, counting, sorting — mostly outside the GIL).
    """
    global _preloading
    if _preloading is not None or _module is not None or _unavailable:
        return
    if _forced_off or os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return
    _preloading = threading.Thread(target=_warm, name="keeneye-numba-load", daemon=True)
    _preloading.start()


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
    """Whether the compiled kernels are used (numba installed and not disabled)."""
    return _kernel() is not None


def sort_with_sentinel(values: FloatArray, buffer: FloatArray | None = None) -> FloatArray:
    """``np.sort(values)`` as float64, stored with a ``+inf`` after the last element.

    The result is a view of length ``values.size``; the merge reads the sentinel behind it
    instead of checking bounds. Sorting in place in the padded buffer costs no more than
    ``np.sort``'s own copy. ``buffer``: reused storage (see :func:`padded_buffer`).

    >>> s = sort_with_sentinel(np.array([3.0, 1.0, 2.0]))
    >>> s.tolist(), float(with_sentinel(s)[-1])
    ([1.0, 2.0, 3.0], inf)
    """
    padded = padded_buffer(values.size, buffer)
    padded[-1] = np.inf
    view = padded[:-1]
    view[...] = values
    view.sort()
    return view


def padded_buffer(n: int, buffer: FloatArray | None = None) -> FloatArray:
    """``n + 1`` float64 slots: the front of ``buffer`` when it is large enough (a buffer
    whose pages are already mapped: a fresh 8 MB array costs milliseconds of page faults),
    else a new array."""
    if buffer is not None and buffer.size > n and buffer.dtype == np.float64:
        return buffer[: n + 1]
    return np.empty(n + 1, dtype=np.float64)


def with_sentinel(sorted_values: FloatArray, *, in_buffer: bool = False) -> FloatArray:
    """``sorted_values`` followed by ``+inf`` (``n + 1`` values), for the merge.

    No copy for arrays from :func:`sort_with_sentinel` (the ``+inf`` is the last element of
    their storage); with ``in_buffer`` also none when a larger storage holds the ``+inf`` right
    after them (the front of a reused sort buffer) — for a merge run at once, never for a
    padded array kept for later, whose storage beyond the values could change meanwhile.
    A padded copy otherwise.
    """
    base = sorted_values.base
    n = sorted_values.size
    if (
        isinstance(base, np.ndarray)
        and base.dtype == np.float64
        and base.ndim == 1
        and base.flags.c_contiguous
        and sorted_values.flags.c_contiguous
        and n > 0
    ):
        start, extra = divmod(sorted_values.ctypes.data - base.ctypes.data, 8)
        end = start + n + 1
        fits = end == base.size or (in_buffer and end < base.size)
        if extra == 0 and start >= 0 and fits and base[end - 1] == np.inf:
            return base[start:end]
    padded = np.empty(n + 1, dtype=np.float64)
    padded[:n] = sorted_values
    padded[n] = np.inf
    return padded


@dataclass(frozen=True)
class MergedStatistics:
    """What one merge of two sorted samples gives.

    ``high``/``low``: the largest and smallest F_a − F_b over the pooled data points, each
    the float scipy's ``ks_2samp`` computes there. ``wasserstein_scaled``: W₁ in units of
    ``scale`` (a power of two, 1.0 unless the values are huge).
    """

    high: float
    low: float
    wasserstein_scaled: float
    scale: float

    @property
    def ks(self) -> float:
        """The two-sided statistic as scipy picks it: D− (clipped to [0, 1]) if larger."""
        d_minus = min(max(-self.low, 0.0), 1.0)
        return d_minus if d_minus > self.high else self.high


def _rank_value(a: FloatArray, b: FloatArray, n1: int, n2: int, rank: int) -> float:
    """The value of 0-based rank ``rank`` among the pooled sorted ``a[:n1]`` and ``b[:n2]``."""
    low, high = max(0, rank - n2), min(rank, n1)
    while low < high:  # the number of a-values among the `rank` smallest
        middle = (low + high) // 2
        if a[middle] < b[rank - middle - 1]:
            low = middle + 1
        else:
            high = middle
    return float(min(a[low], b[rank - low]))  # the sentinels stand in past the ends


def merge_statistics(a_padded: FloatArray, b_padded: FloatArray) -> MergedStatistics | None:
    """KS extremes and W₁ of two sorted, finite, non-empty samples given with their sentinels
    (:func:`with_sentinel`), by the compiled merge; ``None`` without numba.

    >>> a = with_sentinel(np.array([0.0, 1.0]))
    >>> merged = merge_statistics(a, with_sentinel(np.array([1.0, 2.0, 3.0])))
    >>> merged is None or (round(merged.ks, 6), merged.wasserstein_scaled) == (0.666667, 1.5)
    True
    """
    kernels = _kernel()
    if kernels is None:
        return None
    n1, n2 = a_padded.size - 1, b_padded.size - 1
    streams = kernels.STREAMS
    total = n1 + n2
    starts_i = np.zeros(streams, dtype=np.uint64)
    starts_j = np.zeros(streams, dtype=np.uint64)
    for k in range(1, streams):  # value boundaries near equal shares of the pooled data
        boundary = _rank_value(a_padded, b_padded, n1, n2, k * total // streams)
        starts_i[k] = np.searchsorted(a_padded[:n1], boundary, side="left")
        starts_j[k] = np.searchsorted(b_padded[:n2], boundary, side="left")
    ends_i = np.append(starts_i[1:], np.uint64(n1)).astype(np.int64)
    ends_j = np.append(starts_j[1:], np.uint64(n2)).astype(np.int64)
    steps = (ends_i - starts_i.astype(np.int64)) + (ends_j - starts_j.astype(np.int64))
    steps[-1] -= 1  # the last step ends at the sentinels: its point starts the extremes
    magnitude = max(abs(float(a_padded[0])), abs(float(a_padded[n1 - 1])))
    magnitude = max(magnitude, abs(float(b_padded[0])), abs(float(b_padded[n2 - 1])))
    # |terms| < 2·magnitude·n1·n2 < 2**exponent (in exponents: the product may overflow)
    exponent = math.frexp(magnitude)[1] + 1 + (n1 * n2).bit_length()
    unit = 1.0 if exponent <= _SAFE_EXPONENT else math.ldexp(1.0, _SAFE_EXPONENT - exponent)
    out = np.empty(3, dtype=np.float64)
    kernels.merge_statistics(a_padded, b_padded, n1, n2, unit, starts_i, starts_j, steps, out)
    return MergedStatistics(
        high=float(out[0]),
        low=float(out[1]),
        wasserstein_scaled=float(out[2]) / (float(n1) * float(n2)),
        scale=1.0 / unit,
    )


def moments_compiled(values: FloatArray) -> tuple[float, float] | None:
    """Mean and Σ(x − mean)² of a finite sample by the compiled two-pass kernel (no
    temporary array); ``None`` without numba.

    >>> m = moments_compiled(np.array([1.0, 2.0, 3.0, 6.0]))
    >>> m is None or m == (3.0, 14.0)
    True
    """
    kernels = _kernel()
    if kernels is None:
        return None
    out = np.empty(2, dtype=np.float64)
    kernels.moments(np.ascontiguousarray(values, dtype=np.float64), out)
    return float(out[0]), float(out[1])


def sorted_moments_compiled(values: FloatArray) -> tuple[float, float, int] | None:
    """Mean, Σ(x − mean)² and the number of distinct values of a sorted finite sample, by the
    compiled one-pass kernel (deviations from the median); ``None`` without numba.

    >>> m = sorted_moments_compiled(np.array([1.0, 2.0, 2.0, 7.0]))
    >>> m is None or m == (3.0, 22.0, 3)
    True
    """
    kernels = _kernel()
    if kernels is None:
        return None
    if values.size == 0:
        return math.nan, 0.0, 0
    out = np.empty(3, dtype=np.float64)
    kernels.sorted_moments(np.ascontiguousarray(values, dtype=np.float64), out)
    return float(out[0]), float(out[1]), int(out[2]) + 1


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
    """:func:`count_at_or_below_numpy` by the compiled galloping merge; ``None`` without numba.

    >>> ref = np.array([1.0, 2.0, 2.0, 3.0])
    >>> counts = count_at_or_below_compiled(ref, np.array([0.0, 2.0, 5.0]))
    >>> counts is None or counts.tolist() == [0, 3, 4]
    True
    """
    kernels = _kernel()
    if kernels is None:
        return None
    reference = np.ascontiguousarray(sorted_reference, dtype=np.float64)
    keys = np.ascontiguousarray(sorted_keys, dtype=np.float64)
    out = np.empty(keys.size, dtype=np.int64)
    kernels.merge_counts(reference, keys, out)
    return out
