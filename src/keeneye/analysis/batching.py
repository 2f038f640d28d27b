"""Batched store reads for the analysis runner: the rows, invalid-value counts and earlier
traffic of many windows in a few queries instead of several per window.

A run often computes dozens of windows of one model (an hour's late labels re-open a day of
hourly windows; a backfill computes weeks). Each store query costs milliseconds however small
it is, so the runner reads a *span* of up to a day once and splits it into its windows, asks
for the invalid-value counts of all the span's windows at once, and counts the traffic of all
the earlier windows it compares with in one bucketed query per window size. What each window
gets is exactly what its own queries would return: rows ``start <= ts < end`` in the same
order (a window is a contiguous slice of a span ordered by time), and the same counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from keeneye.analysis.windows import Window
from keeneye.store.base import EventStore
from keeneye.store.records import WindowData

#: The longest span read at once (a window longer than this is read on its own): a day keeps
#: the memory of a span that of one daily window.
MAX_SPAN = timedelta(days=1)
#: At most this many buckets per traffic count query.
MAX_BUCKETS = 2000

_TS = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def micros(when: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact)."""
    return int((when - _EPOCH) // timedelta(microseconds=1))


def column_micros(column: pa.ChunkedArray) -> np.ndarray:
    """Microseconds since the epoch of a timestamp column (one ``int64`` array)."""
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.unit == "us" and column.null_count == 0:
        # the stored integers themselves: a view of each chunk, one copy to join them
        chunks = [c.view(pa.int64()).to_numpy(zero_copy_only=True) for c in column.chunks]
        return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)
    values = pc.cast(pc.cast(column, _TS), pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.int64)


@dataclass
class _Span:
    """Windows read together: ``[start, end)`` covers them all."""

    start: datetime
    end: datetime
    windows: list[Window] = field(default_factory=list)
    with_invalid: set[Window] = field(default_factory=set)
    remaining: int = 0
    data: WindowData | None = None
    times: np.ndarray | None = None
    invalid: dict[Window, dict[str, dict[str, dict[str, int]]]] = field(default_factory=dict)


class WindowReader:
    """The rows (and invalid-value counts) of a model's windows, read span by span.

    ``windows`` are the windows the run will ask for; ``with_invalid`` those that also need
    invalid-value counts (the statistics job). A span is read when its first window is asked
    for and dropped when its last one was.
    """

    def __init__(
        self,
        store: EventStore,
        model: str,
        windows: Iterable[Window],
        *,
        with_invalid: Iterable[Window] = (),
    ) -> None:
        self.store = store
        self.model = model
        invalid = set(with_invalid)
        self._span_of: dict[Window, _Span] = {}
        span: _Span | None = None
        for window in sorted(set(windows), key=lambda w: (w.start, w.end)):
            limit = max(MAX_SPAN, window.length)
            if span is None or window.end - span.start > limit:
                span = _Span(window.start, window.end)
            span.end = max(span.end, window.end)
            span.windows.append(window)
            span.remaining += 1
            if window in invalid:
                span.with_invalid.add(window)
            self._span_of[window] = span

    def _load(self, span: _Span) -> tuple[WindowData, np.ndarray]:
        if span.data is not None and span.times is not None:
            return span.data, span.times
        data = self.store.read_window(self.model, span.start, span.end)
        span.data = data
        span.times = times = column_micros(data.events.column("timestamp"))
        wanted = sorted(span.with_invalid, key=lambda w: (w.start, w.end))
        if wanted:
            counts = self.store.invalid_value_counts_by_window(
                self.model, [(w.start, w.end) for w in wanted]
            )
            span.invalid = dict(zip(wanted, counts, strict=True))
        return data, times

    def read(self, window: Window) -> WindowData:
        """The window's rows, as ``read_window(model, window.start, window.end)`` gives them."""
        span = self._span_of.get(window)
        if span is None:
            return self.store.read_window(self.model, window.start, window.end)
        data, times = self._load(span)
        lo, hi = np.searchsorted(times, [micros(window.start), micros(window.end)])
        offset, length = int(lo), int(hi - lo)
        return WindowData(
            features=data.features.slice(offset, length),
            events=data.events.slice(offset, length),
        )

    def invalid(self, window: Window, version: str) -> Mapping[str, Mapping[str, int]]:
        """``invalid_value_counts(model, window.start, window.end, version=version)``."""
        span = self._span_of.get(window)
        if span is None or window not in span.with_invalid:
            return self.store.invalid_value_counts(
                self.model, window.start, window.end, version=version
            )
        self._load(span)
        return span.invalid.get(window, {}).get(version, {})

    def done(self, window: Window) -> None:
        """The window is computed: its span is dropped once all its windows are."""
        span = self._span_of.pop(window, None)
        if span is None:
            return
        span.remaining -= 1
        if span.remaining == 0:
            span.data = None
            span.times = None
            span.invalid = {}


def earlier_counts(
    store: EventStore, model: str, windows: Sequence[Window]
) -> dict[tuple[str, datetime], int]:
    """Events in each of ``windows`` (all versions), keyed by ``(name, start)``: the sum of
    ``count_events(model, w.start, w.end)``, from one bucketed query per window size (and per
    ``MAX_BUCKETS`` buckets). Tumbling windows of one size are aligned, so every window is one
    bucket of a count aligned on the first window's start."""
    out: dict[tuple[str, datetime], int] = {}
    by_size: dict[timedelta, list[Window]] = {}
    for window in set(windows):
        by_size.setdefault(window.length, []).append(window)
    for length, group in by_size.items():
        seconds = length.total_seconds()
        if seconds != int(seconds) or seconds < 1:
            for window in group:  # not a whole number of seconds: no buckets
                counts = store.count_events(model, window.start, window.end)
                out[(window.name, window.start)] = int(pc.sum(counts.column("events")).as_py() or 0)
            continue
        group.sort(key=lambda w: w.start)
        i = 0
        while i < len(group):
            first = group[i]
            j = i
            while j + 1 < len(group) and (group[j + 1].end - first.start) / length <= MAX_BUCKETS:
                j += 1
            table = store.count_events(
                model, first.start, group[j].end, bucket_seconds=int(seconds)
            )
            sums: dict[int, int] = {}
            starts = column_micros(table.column("bucket_start"))
            events = table.column("events").to_numpy(zero_copy_only=False)
            for start, count in zip(starts.tolist(), events.tolist(), strict=True):
                sums[start] = sums.get(start, 0) + int(count)
            for window in group[i : j + 1]:
                out[(window.name, window.start)] = sums.get(micros(window.start), 0)
            i = j + 1
    return out


__all__ = ["MAX_BUCKETS", "MAX_SPAN", "WindowReader", "column_micros", "earlier_counts", "micros"]
