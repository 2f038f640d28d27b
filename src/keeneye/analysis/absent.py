"""Baseline features that a window does not hold: reported as absent (a schema change), not
as a column of missing values or NaNs.

A feature is *absent* from a window when the baseline has it and the window's rows have no such
column at all: this version's clients never sent it (or sent it under another name). A column
that was sent before and now arrives empty is not absent: that is missing values, reported and
alerted as such (a column that "stops being filled"). An absent feature's drift is "not tested:
absent from the current data", its quality row says absent instead of "missing in 100 % of
events", and one ``schema_change`` alert per window names every absent feature (the notifier
sends an ongoing condition once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

#: The reason stored on the drift row of an absent feature.
ABSENT_REASON = "not tested: absent from the current data (no row carries a value)"


def absent_features(
    features: pa.Table,
    baseline: Iterable[str],
    invalid: Mapping[str, Mapping[str, int]] | None = None,
) -> list[str]:
    """The baseline features that are no column of ``features`` (empty windows have none
    absent: there is nothing to judge). ``invalid`` is accepted for the callers' symmetry.

    >>> t = pa.table({"age": [1.0, None], "plan": pa.nulls(2)})
    >>> absent_features(t, ["age", "plan", "city"])
    ['city']
    """
    rows = features.num_rows
    if rows == 0:
        return []
    del invalid  # an empty column is missing values, whatever its markers
    present = set(features.column_names)
    return sorted(name for name in baseline if name not in present)


def mark_absent_in_drift(payload: dict[str, Any], absent: Iterable[str]) -> None:
    """Give the drift rows of absent features the absent reason (in place)."""
    names = set(absent)
    for row in payload.get("features", []):
        if row.get("feature") in names:
            row["reason"] = ABSENT_REASON
            row["absent"] = True
    payload["absent_features"] = sorted(names)
