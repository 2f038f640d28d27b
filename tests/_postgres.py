"""A real PostgreSQL server for tests: the Debian package's binaries, a temp data directory,
loopback only, a free port, run as the ``postgres`` user and stopped by PID.

Used by the session fixture ``postgres_server`` (``tests/conftest.py``) and by the end-to-end
tests that need a server of their own.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg


def postgres_bin(name: str) -> str:
    """The path of a PostgreSQL server binary (newest installed major version)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"{name} not found: apt-get install -y postgresql")
    return found[-1]


INITDB_ARGS = ("-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres() -> dict[str, object]:
    """``Popen`` options that run the child as ``postgres`` when we are root (PostgreSQL
    refuses root); the child's PID is then the server's own, so it is stopped by PID."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


@dataclass
class PostgresServer:
    """A running server; ``url`` reaches its ``postgres`` database as user ``postgres``."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    _names: itertools.count[int]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb in a temp directory, then start ``postgres`` on 127.0.0.1 and a free port."""
    directory = Path(tempfile.mkdtemp(prefix="keeneye-pg-"))
    directory.chmod(0o755)
    data = directory / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [postgres_bin("initdb"), *INITDB_ARGS, "-D", str(data)],
        check=True,
        capture_output=True,
        cwd=directory,
        **_as_postgres(),  # type: ignore[call-overload]
    )
    port = _free_port()
    process = subprocess.Popen(  # type: ignore[call-overload]
        [
            postgres_bin("postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={directory}",
            "-c",
            "fsync=on",
            "-c",
            "max_connections=200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=directory,
        **_as_postgres(),
    )
    server = PostgresServer(directory, port, process, itertools.count())
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(server.url, connect_timeout=2):
                return server
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError("PostgreSQL did not start") from None
            time.sleep(0.05)
