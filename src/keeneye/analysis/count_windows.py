"""Count-based windows: every N predictions of a model, next to its time windows.

A model with ``analysis.count_windows[model] = N`` gets windows named :data:`COUNT` of N
predictions each (all versions together), in event-time order. The first starts at the model's
first event; each ends just after the time of its N-th event (its ``end`` is that time plus a
microsecond) and the next starts there, so consecutive count windows tile the history and a
window is identified, stored and shown by its time span like any other — its ordinal is its
place in that order. A window is cut once its N events exist and is complete ``grace`` after
its end, as a time window is.

Once cut, a window's span stays: an event that arrives late with a time inside a computed count
window joins it (that window then holds more than N events and its fingerprint, like a time
window's, makes the runner compute it again); events after the last cut wait for the next one.
Cutting reads only what arrived after the last stored count window: one bucketed count from it,
and the rows of the few buckets a cut falls in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np

from keeneye.analysis.batching import column_micros, micros
from keeneye.analysis.windows import Window
from keeneye.store.base import EventStore

#: The window name of count-based windows (results' ``window``).
COUNT = "count"
#: Buckets of the count that locates cuts (the rows of a bucket with a cut are then read).
_BUCKET_SECONDS = 60


def cut_windows(
    store: EventStore, model: str, size: int, start: datetime, until: datetime
) -> Iterator[Window]:
    """The count windows of ``size`` events that follow ``start`` and end by ``until``, in
    order (the events in ``[start, until)``, split every ``size`` events by event time)."""
    if size < 1:
        raise ValueError(f"a count window needs at least one event, got {size}")
    counts = store.count_events(model, start, until, bucket_seconds=_BUCKET_SECONDS)
    per_bucket: dict[int, int] = {}
    for bucket, events in zip(
        column_micros(counts.column("bucket_start")).tolist(),
        counts.column("events").to_pylist(),
        strict=True,
    ):
        per_bucket[bucket] = per_bucket.get(bucket, 0) + int(events)
    need = size
    begin = start
    step = timedelta(seconds=_BUCKET_SECONDS)
    for bucket in sorted(per_bucket):
        events = per_bucket[bucket]
        if events < need:
            need -= events
            continue
        # A cut falls in this bucket: read its event times (a minute of events).
        at = start + timedelta(microseconds=bucket - micros(start))
        rows = store.read_window(model, max(at, begin), min(at + step, until), features=[])
        times = np.sort(column_micros(rows.events.column("timestamp")))
        position = 0
        while times.size - position >= need:
            last = int(times[position + need - 1])
            end_us = last + 1
            end = start + timedelta(microseconds=end_us - micros(start))
            yield Window(begin, end, COUNT)
            begin = end
            position = int(np.searchsorted(times, end_us, side="left"))
            need = size
        need -= times.size - position


__all__ = ["COUNT", "cut_windows"]
