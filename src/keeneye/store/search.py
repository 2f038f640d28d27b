"""Finding events for people debugging a model: a window's events filtered by a feature value
or by the prediction, newest first, each with its label.

The OpenSearch event log answers with one query (:meth:`OpenSearchEventLog.search_events`);
any other store is read through ``read_window`` and filtered here, so the UI's search page
works on every backend.

>>> from datetime import UTC, datetime, timedelta
>>> from keeneye.store import PredictionEvent, open_store
>>> store = open_store(":memory:")
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> _ = store.write_predictions("m", [PredictionEvent(f"e{i}", "1", at, {"plan": p}, i)
...                                   for i, p in enumerate(["basic", "pro", "pro"])])
>>> [hit.event_id for hit in search_events(store, "m", at, at + timedelta(hours=1),
...                                        feature="plan", value="pro")]
['e2', 'e1']
>>> store.close()
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keeneye.errors import InputError
from keeneye.store._values import raw_text
from keeneye.store.base import EventStore


@dataclass(frozen=True)
class SearchHit:
    """One event as the search page shows it (values as JSON text, as sent)."""

    event_id: str
    version: str
    timestamp: datetime
    prediction: str
    label: str | None
    features: Mapping[str, str | None] = field(default_factory=dict)


def matches(value: Any, wanted: str) -> bool:
    """Whether a stored value equals what was typed in the search box.

    >>> matches(31.0, "31"), matches("pro", "pro"), matches(True, "true"), matches(2.5, "x")
    (True, True, True, False)
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return str(value).lower() == wanted.strip().lower()
    if isinstance(value, int | float):
        try:
            number = float(wanted)
        except ValueError:
            return False
        return value == number or (math.isnan(value) and math.isnan(number))
    return str(value) == wanted


def search_events(
    store: EventStore,
    model: str,
    start: datetime,
    end: datetime,
    *,
    version: str | None = None,
    feature: str | None = None,
    value: str | None = None,
    prediction: str | None = None,
    limit: int = 100,
) -> list[SearchHit]:
    """At most ``limit`` events of ``[start, end)``, newest first, that match every filter."""
    if limit < 1:
        raise InputError(f"limit must be >= 1, got {limit}")
    if (feature is None) != (value is None):
        raise InputError("give both a feature and a value to filter on, or neither")
    log = getattr(store, "events", None)
    if log is not None and hasattr(log, "search_events"):
        hits: list[SearchHit] = log.search_events(
            model,
            start,
            end,
            version=version,
            feature=feature,
            value=value,
            prediction=prediction,
            limit=limit,
        )
        return hits
    window = store.read_window(model, start, end, version=version)
    events = window.events.to_pylist()
    rows = window.features.to_pylist() if window.features.num_columns else [{} for _ in events]
    out: list[SearchHit] = []
    for event, inputs in reversed(list(zip(events, rows, strict=True))):
        if feature is not None and value is not None and not matches(inputs.get(feature), value):
            continue
        if prediction is not None and not matches(event["prediction"], prediction):
            continue
        out.append(
            SearchHit(
                event_id=event["event_id"],
                version=event["version"],
                timestamp=event["timestamp"],
                prediction=raw_text(event["prediction"]),
                label=None if event["label"] is None else raw_text(event["label"]),
                features={k: None if v is None else raw_text(v) for k, v in inputs.items()},
            )
        )
        if len(out) >= limit:
            break
    return out
