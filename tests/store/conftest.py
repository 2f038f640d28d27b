"""The store conformance suite runs against every backend listed in ``BACKENDS``.

A backend joins by adding its name to ``BACKEND_NAMES`` in ``tests/conftest.py`` (the
``backend`` fixture); every test in ``tests/store/`` then runs against it (a real database,
never a fake).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import Backend

from keeneye.store import open_store
from keeneye.store.base import EventStore

__all__ = ["T0", "Backend", "FakeClock"]

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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(backend: Backend, tmp_path: Path, clock: FakeClock) -> Iterator[EventStore]:
    opened = open_store(backend.location(tmp_path), clock=clock, type_change_after=5)
    yield opened
    opened.close()
