"""The store conformance suite runs against every backend listed in ``BACKENDS``.

A backend joins by adding a factory ``(directory, clock) -> EventStore`` here; every test in
``tests/store/`` then runs against it (a real database, never a fake).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from keeneye.store.base import EventStore
from keeneye.store.duckdb import DuckDBStore

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def _duckdb(directory: Path, clock: FakeClock) -> EventStore:
    return DuckDBStore(directory / "keeneye.duckdb", clock=clock, type_change_after=5)


BACKENDS: dict[str, Callable[[Path, FakeClock], EventStore]] = {"duckdb": _duckdb}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Callable[[Path, FakeClock], EventStore]:
    return BACKENDS[request.param]


@pytest.fixture
def store(
    backend: Callable[[Path, FakeClock], EventStore], tmp_path: Path, clock: FakeClock
) -> Iterator[EventStore]:
    opened = backend(tmp_path, clock)
    yield opened
    opened.close()
