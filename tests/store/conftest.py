"""The store conformance suite runs against every backend listed in ``BACKENDS``.

A backend joins by adding an entry to ``BACKENDS`` here; every test in ``tests/store/`` then
runs against it (a real database, never a fake).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from keeneye.store import open_store
from keeneye.store.base import EventStore

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


@dataclass(frozen=True)
class Backend:
    """How the suite reaches one backend: a store URL for ``open_store`` in a test directory."""

    name: str
    location: Callable[[Path], str]


#: Every backend the suite runs against. ``open_store(location, clock=…,
#: type_change_after=…)`` must accept these options.
BACKENDS: dict[str, Backend] = {
    "duckdb": Backend("duckdb", lambda directory: f"duckdb://{directory / 'keeneye.duckdb'}"),
    # Events on a real OpenSearch node (one index namespace per test), the rest in DuckDB.
    "opensearch": Backend(
        "opensearch",
        lambda directory: (
            f"opensearch://{_OPENSEARCH['url'].split('://', 1)[1]}?namespace=t"
            f"{abs(hash(str(directory))) % 10**12}&rest=duckdb://{directory / 'rest.duckdb'}"
        ),
    ),
}
#: Filled by the ``backend`` fixture when a test runs against OpenSearch.
_OPENSEARCH: dict[str, str] = {}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "opensearch":
        _OPENSEARCH["url"] = request.getfixturevalue("opensearch_url")
    return BACKENDS[request.param]


@pytest.fixture
def store(backend: Backend, tmp_path: Path, clock: FakeClock) -> Iterator[EventStore]:
    opened = open_store(backend.location(tmp_path), clock=clock, type_change_after=5)
    yield opened
    opened.close()
