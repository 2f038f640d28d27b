"""The keeneye server of the end-to-end test, with a clock the test moves (run as its own process).

The same app as ``keeneye server`` (``create_app`` served by uvicorn on a free loopback port,
settings from the environment), but its clock is the wall clock plus an offset in seconds read
from a file: the test moves the server an hour ahead to complete the next analysis window
instead of waiting an hour on the wall clock.

Usage: python server_process.py STORE_FILE OFFSET_FILE
Prints "keeneye server listening on http://127.0.0.1:PORT" (as ``keeneye server`` does).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from keeneye.config import load_settings
from keeneye.server.app import create_app
from keeneye.store import open_store


class FileOffsetClock:
    """Wall clock + the offset (seconds) written in ``path``; a torn read keeps the last one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0.0

    def __call__(self) -> datetime:
        with contextlib.suppress(OSError, ValueError):
            self.offset = float(self.path.read_text())
        return datetime.now(UTC) + timedelta(seconds=self.offset)


def _stopped(signum: int, frame: Any) -> None:
    """uvicorn re-raises the signal after its clean shutdown; exit normally then."""


def main() -> None:
    store_file, offset_file = sys.argv[1], Path(sys.argv[2])
    settings = load_settings(None, server={"store": store_file, "port": 0})
    store = open_store(settings.server.store)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    app = create_app(settings, store, clock=FileOffsetClock(offset_file))
    print(f"keeneye server listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stopped)
    try:
        uv.run(sockets=[sock])
    finally:
        sock.close()
        store.close()


if __name__ == "__main__":
    main()
