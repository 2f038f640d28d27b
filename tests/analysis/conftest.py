"""Fixtures of the analysis tests: a real store (each backend in turn), a manual clock, and a
writer that sends synthetic predictions through the store's real write path."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import Backend

from keeneye.analysis.clock import ManualClock
from keeneye.store import EventStore, open_store
from keeneye.store.records import LabelEvent, PredictionEvent

UTC = timezone.utc
#: A Monday, so that day offsets map to weekdays simply (day 5 and 6 are a weekend).
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def store(backend: Backend, tmp_path: Path, clock: ManualClock) -> Iterator[EventStore]:
    """A real store on each backend (DuckDB file, PostgreSQL database) in turn."""
    the_store = open_store(backend.location(tmp_path), clock=clock.now)
    yield the_store
    the_store.close()


Rows = Callable[[np.random.Generator, int], Sequence[Mapping[str, Any]]]


def normal_rows(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    """Feature rows like the baseline: age ~ N(40, 10), plan in {basic, pro, team}."""
    ages = rng.normal(40, 10, n)
    plans = rng.choice(["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2])
    return [{"age": float(a), "plan": str(p)} for a, p in zip(ages, plans, strict=True)]


def write_day(
    store: EventStore,
    model: str,
    day: datetime,
    n: int,
    *,
    rng: np.random.Generator,
    version: str = "1",
    rows: Rows = normal_rows,
    prefix: str = "",
) -> list[PredictionEvent]:
    """``n`` predictions spread evenly over ``day`` (a score in [0, 1] as the prediction)."""
    features = rows(rng, n)
    step = timedelta(days=1) / n
    events = [
        PredictionEvent(
            event_id=f"{prefix}{day:%Y%m%d}-{i}",
            version=version,
            timestamp=day + step * i,
            inputs=features[i],
            prediction=float(rng.uniform()),
        )
        for i in range(n)
    ]
    store.write_predictions(model, events)
    return events


def labels_for(
    events: Sequence[PredictionEvent], at: datetime, rng: np.random.Generator, share: float = 1.0
) -> list[LabelEvent]:
    """Labels for a share of ``events``: mostly agreeing with the score (about 80 % correct)."""
    out = []
    for event in events:
        if rng.uniform() >= share:
            continue
        predicted = int(float(event.prediction) >= 0.5)
        label = predicted if rng.uniform() < 0.8 else 1 - predicted
        out.append(LabelEvent(event.event_id, label, at))
    return out
