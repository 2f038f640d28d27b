"""Shared fixtures. Real services only: servers are started on 127.0.0.1, free ports, temp dirs."""

from __future__ import annotations

import socket

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


# -- store backends: every store-using suite runs on each of these -----------------------------
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from tests._postgres import PostgresServer, start_postgres  # noqa: E402

#: The store backends the ``backend`` fixture runs a test on.
BACKEND_NAMES: tuple[str, ...] = ("duckdb", "postgresql")


@dataclass(frozen=True)
class Backend:
    """How a test reaches one backend: ``location(tmp_path)`` gives a fresh, empty store's URL
    for ``open_store`` (a DuckDB file in the test's directory, or a new PostgreSQL database)."""

    name: str
    location: Callable[[Path], str]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (Debian binaries, temp dir, loopback)."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each backend in turn; PostgreSQL is started only when a test asks for it."""
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return Backend("postgresql", lambda _directory: server.create_database())
    return Backend("duckdb", lambda directory: f"duckdb://{directory / 'keeneye.duckdb'}")
