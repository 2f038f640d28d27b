"""Baseline features that a window does not hold: reported as absent (a schema change), not
as a column of missing values or NaNs.

A feature is *absent* from a window when the baseline has it and not one of the window's rows
carries a value for it (every row null and no invalid value either): the clients stopped
sending it, or renamed it. Its drift is then "not tested: absent from the current data", its
quality row says absent instead of "missing in 100 % of events", and one ``schema_change``
alert per window names every absent feature (the notifier sends an ongoing condition once).
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
    """The baseline features with no value in any row of ``features`` (empty windows have
    none absent: there is nothing to judge).

    >>> t = pa.table({"age": [1.0, None], "plan": pa.nulls(2)})
    >>> absent_features(t, ["age", "plan", "city"])
    ['city', 'plan']
    """
    rows = features.num_rows
    if rows == 0:
        return []
    markers = invalid or {}
    out = []
    for name in baseline:
        wrong = sum(v for k, v in markers.get(name, {}).items() if k != "missing")
        present = name in features.column_names
        if not present or (features.column(name).null_count == rows and wrong == 0):
            out.append(name)
    return sorted(out)


def mark_absent_in_drift(payload: dict[str, Any], absent: Iterable[str]) -> None:
    """Give the drift rows of absent features the absent reason (in place)."""
    names = set(absent)
    for row in payload.get("features", []):
        if row.get("feature") in names:
            row["reason"] = ABSENT_REASON
            row["absent"] = True
    payload["absent_features"] = sorted(names)
