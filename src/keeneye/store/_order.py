"""Rows in the order the store promises (by timestamp, then event id) without asking the
database to sort what it returns in that order already.

A model's events are written in time order almost always, and DuckDB returns a scan in the
order of insertion: sorting a day of a million rows by ``(ts, event_id)`` costs more than the
scan itself. :func:`in_time_order` checks the order in one pass over the timestamps (and the
event ids of equal timestamps only) and sorts only a result that is out of order, with the
same byte-wise comparison as ``ORDER BY ts, event_id``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    chunks = [c.view(pa.int64()).to_numpy(zero_copy_only=True) for c in column.chunks]
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)


def is_time_ordered(table: pa.Table, ts: str, event_id: str) -> bool:
    """Whether ``table``'s rows are ordered by ``ts`` then ``event_id`` (non-null timestamps
    in microseconds, as the stores keep them)."""
    if table.num_rows < 2:
        return True
    column = table.column(ts)
    kind = column.type
    if not (pa.types.is_timestamp(kind) and kind.unit == "us") or column.null_count:
        return False
    steps = np.diff(_micros(column))
    if (steps < 0).any():
        return False
    ties = np.flatnonzero(steps == 0)
    if ties.size == 0:
        return True
    ids = table.column(event_id)
    first, second = ids.take(pa.array(ties)), ids.take(pa.array(ties + 1))
    return bool(pc.all(pc.less_equal(first, second)).as_py())


def in_time_order(table: pa.Table, ts: str, event_id: str) -> pa.Table:
    """``table`` ordered by ``ts`` then ``event_id`` (itself when it already is)."""
    if is_time_ordered(table, ts, event_id):
        return table
    return table.sort_by([(ts, "ascending"), (event_id, "ascending")])


__all__ = ["in_time_order", "is_time_ordered"]
