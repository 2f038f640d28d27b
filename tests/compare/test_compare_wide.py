"""A wide comparison gives every column the result it gets alone.

The engine sorts the columns of a window on worker threads, one sort buffer per thread reused
column after column, and summarises each column while its sorted values are at hand: nothing
of one column may leak into the next.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest

import keeneye
from keeneye.stats import _parallel


def _tables(rows: int) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(21)
    ref, cur = {}, {}
    for i in range(6):
        size = rows - 1_000 * i  # different lengths: buffers larger than the next column
        ref[f"x{i}"] = rng.normal(i, 1.0 + i, size).tolist() + [None] * (1_000 * i)
        shifted = rng.normal(i + 0.05 * i, 1.0 + i, size - 500 * i).tolist()
        cur[f"x{i}"] = shifted + [float("nan")] * (500 * i) + [None] * (1_000 * i)
    ref["c"] = rng.choice(["a", "b", "c"], rows).tolist()
    cur["c"] = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2]).tolist()
    return pa.table(ref), pa.table(cur)


def test_wide_comparison_equals_each_column_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parallel, "MIN_PARALLEL_VALUES", 1)  # threads even at this size
    reference, current = _tables(40_000)
    wide = keeneye.compare(reference, current)
    for name in reference.column_names:
        alone = keeneye.compare(reference.select([name]), current.select([name]))
        # The multiple-testing correction depends on the other columns; nothing else may.
        unadjusted = {"p_value_adjusted": None, "drifted_adjusted": None}
        assert replace(wide[name], **unadjusted) == replace(alone[name], **unadjusted)
        assert wide.profiles[name] == alone.profiles[name]
